"""garden-eden's launcher for LLaMA-Factory's preference stages (KTO, DPO/ORPO/SimPO).

It is `llamafactory-cli train run.yaml` with one more trainer callback: every value the trainer
logs (the loss, and the rewards of the chosen and rejected answers, their margins and accuracies,
KTO's KL, at training and evaluation steps) is appended with its step to
`<output_dir>/prefs_log.jsonl`, one JSON object a line, as it is logged. LLaMA-Factory's own
trainer_log.jsonl keeps only the loss and the DPO accuracy of each step.

Usage: python prefs_train.py run.yaml
"""

import json
import math
import os

from transformers import TrainerCallback

PREFS_LOG = "prefs_log.jsonl"


class PrefsLog(TrainerCallback):
    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        values = {
            key: float(value)
            for key, value in logs.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        }
        os.makedirs(args.output_dir, exist_ok=True)
        with open(os.path.join(args.output_dir, PREFS_LOG), "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": state.global_step, "logs": values}) + "\n")


def main():
    from llamafactory.train.tuner import run_exp

    # run_exp reads run.yaml from the command line, as `llamafactory-cli train run.yaml` does.
    run_exp(callbacks=[PrefsLog()])


if __name__ == "__main__":
    main()
