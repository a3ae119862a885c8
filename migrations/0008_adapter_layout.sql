-- garden-eden schema, version 8: MLX adapters in the registry. Their weights are safetensors
-- (format stays 'safetensors'); `layout` says whose tensor names and shapes they follow: PEFT's
-- (lora_A [r, in], lora_B [out, r]) or mlx-lm's (lora_a [in, r], lora_b [r, out]).
ALTER TABLE adapters ADD COLUMN layout TEXT NOT NULL DEFAULT 'peft' CHECK (layout IN ('peft', 'mlx'));
