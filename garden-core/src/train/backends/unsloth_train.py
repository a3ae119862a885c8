# The training part of train_unsloth.py. garden-eden writes the settings (OUTPUT_DIR, MODEL_NAME,
# LOAD_IN_4BIT, ...) above it; see unsloth.rs.
import dataclasses
import inspect

# Unsloth first: it patches transformers and TRL.
from unsloth import FastLanguageModel, is_bfloat16_supported
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

load_kwargs = {"load_in_4bit": LOAD_IN_4BIT}
if LOAD_IN_8BIT:
    load_kwargs["load_in_8bit"] = True
model, tokenizer = FastLanguageModel.from_pretrained(
    model_name=MODEL_NAME,
    max_seq_length=MAX_SEQ_LENGTH,
    dtype=None,
    **load_kwargs,
)
model = FastLanguageModel.get_peft_model(
    model,
    r=LORA_R,
    lora_alpha=LORA_ALPHA,
    lora_dropout=LORA_DROPOUT,
    target_modules=TARGET_MODULES,
    bias="none",
    use_gradient_checkpointing="unsloth",
    random_state=SEED,
)

ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


def to_messages(example):
    """One exported example as chat messages, whatever the export's format."""
    if DATASET_FORMAT == "openai":
        return [{"role": m["role"], "content": m["content"]} for m in example["messages"]]
    if DATASET_FORMAT == "sharegpt":
        return [{"role": ROLES.get(m["from"], m["from"]), "content": m["value"]} for m in example["conversations"]]
    messages = []
    if example.get("system"):
        messages.append({"role": "system", "content": example["system"]})
    if DATASET_FORMAT == "alpaca":
        for user, assistant in example.get("history") or []:
            messages.append({"role": "user", "content": user})
            messages.append({"role": "assistant", "content": assistant})
        prompt = example["instruction"]
        if example.get("input"):
            prompt += "\n" + example["input"]
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": example["output"]})
    else:  # jsonl: one exchange a line
        messages.append({"role": "user", "content": example["user"]})
        messages.append({"role": "assistant", "content": example["assistant"]})
    return messages


def to_text(example):
    return {"text": tokenizer.apply_chat_template(to_messages(example), tokenize=False)}


def load(path):
    data = load_dataset("json", data_files=path, split="train")
    return data.map(to_text, remove_columns=data.column_names)


train_data = load(DATA_FILE)
eval_data = None
if EVAL_STRATEGY != "no":
    if EVAL_FILE is not None:
        eval_data = load(EVAL_FILE)
    elif VAL_SIZE > 0:
        split = train_data.train_test_split(test_size=VAL_SIZE, seed=SEED)
        train_data, eval_data = split["train"], split["test"]

bf16 = PRECISION == "bf16" or (PRECISION == "auto" and is_bfloat16_supported())
fp16 = PRECISION == "fp16" or (PRECISION == "auto" and not bf16)
config_fields = {field.name for field in dataclasses.fields(SFTConfig)}
length = {"max_length": MAX_SEQ_LENGTH} if "max_length" in config_fields else {"max_seq_length": MAX_SEQ_LENGTH}
evaluation = {}
if eval_data is not None:
    evaluation = {"eval_strategy": EVAL_STRATEGY, "eval_steps": EVAL_STEPS, "per_device_eval_batch_size": EVAL_BATCH_SIZE}
args = SFTConfig(
    output_dir=OUTPUT_DIR,
    per_device_train_batch_size=BATCH_SIZE,
    gradient_accumulation_steps=GRADIENT_ACCUMULATION_STEPS,
    num_train_epochs=NUM_TRAIN_EPOCHS,
    max_steps=MAX_STEPS,
    learning_rate=LEARNING_RATE,
    lr_scheduler_type=LR_SCHEDULER_TYPE,
    warmup_ratio=WARMUP_RATIO,
    logging_steps=LOGGING_STEPS,
    save_steps=SAVE_STEPS,
    seed=SEED,
    bf16=bf16,
    fp16=fp16,
    dataset_text_field="text",
    packing=False,
    report_to="none",
    **length,
    **evaluation,
)
trainer_params = inspect.signature(SFTTrainer.__init__).parameters
tokenizer_arg = {"processing_class": tokenizer} if "processing_class" in trainer_params else {"tokenizer": tokenizer}
trainer = SFTTrainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data, **tokenizer_arg)
if TEMPLATE == "qwen":
    # Learn the answers only, as LLaMA-Factory does.
    from unsloth.chat_templates import train_on_responses_only

    trainer = train_on_responses_only(
        trainer, instruction_part="<|im_start|>user\n", response_part="<|im_start|>assistant\n"
    )
trainer.train()
model.save_pretrained(OUTPUT_DIR)
tokenizer.save_pretrained(OUTPUT_DIR)
print("LoRA adapter saved to", OUTPUT_DIR)
