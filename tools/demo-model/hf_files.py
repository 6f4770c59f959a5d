"""The small JSON files of a Hugging Face model folder: config.json, tokenizer_config.json,
generation_config.json. Kept to the keys real Llama / SmolLM2 checkpoints carry.
"""
from __future__ import annotations

from chats import DEFAULT_SYSTEM
from llama import LlamaConfig

# SmolLM2-Instruct's ChatML template with our default system prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\n" + DEFAULT_SYSTEM + "<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def config_json(cfg: LlamaConfig) -> dict:
    return {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama',
        'hidden_size': cfg.C, 'intermediate_size': cfg.F, 'num_hidden_layers': cfg.L,
        'num_attention_heads': cfg.H, 'num_key_value_heads': cfg.Hkv, 'head_dim': cfg.D,
        'max_position_embeddings': cfg.S, 'rms_norm_eps': cfg.eps, 'rope_theta': cfg.rope_theta,
        'rope_scaling': None, 'vocab_size': cfg.V, 'tie_word_embeddings': True,
        'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': 2, 'hidden_act': 'silu',
        'attention_bias': False, 'mlp_bias': False, 'attention_dropout': 0.0,
        'initializer_range': 0.02, 'pretraining_tp': 1, 'use_cache': True,
        'torch_dtype': 'float16', 'transformers_version': '4.46.0',
    }


def tokenizer_config_json(special: list[str], S: int) -> dict:
    return {
        'add_prefix_space': False,
        'added_tokens_decoder': {str(i): {'content': t, 'lstrip': False, 'normalized': False,
                                          'rstrip': False, 'single_word': False, 'special': True}
                                 for i, t in enumerate(special)},
        'additional_special_tokens': ['<|im_start|>', '<|im_end|>'],
        'bos_token': '<|im_start|>', 'eos_token': '<|im_end|>', 'pad_token': '<|im_end|>',
        'unk_token': '<|endoftext|>', 'chat_template': CHAT_TEMPLATE,
        'clean_up_tokenization_spaces': False, 'model_max_length': S,
        'tokenizer_class': 'GPT2Tokenizer',
    }


def generation_config_json() -> dict:
    # 2 (<|im_end|>) ends a chat turn; 0 (<|endoftext|>) ends a plain-text document.
    return {'bos_token_id': 1, 'eos_token_id': [2, 0], 'pad_token_id': 2,
            'transformers_version': '4.46.0'}
