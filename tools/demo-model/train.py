"""Trains the tiny bundled demo model and writes models/gpt-chat-demo.

Run from the repository root (about 25 minutes on 2 shared CPU cores):
    /usr/bin/python3 tools/demo-model/train.py
Seeded: the same command writes the same corpus, tokenizer and (up to float rounding) weights.
"""
from __future__ import annotations

import os

# Measured on this 2-core machine shared with other jobs: torch's OpenMP pool with 2 threads made a
# step 5x slower (645 vs 3652 tok/s, spin-waiting on busy cores); one torch thread for the
# elementwise ops and 2 OpenBLAS threads for the matmuls is fastest. Must be set before numpy loads.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '2')

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bpe import SPECIAL_TOKENS, BpeTokenizer  # noqa: E402
from chats import DEFAULT_SYSTEM, render_chat, sample_chat  # noqa: E402
from corpus import fewshot_document, sample_fewshot  # noqa: E402
from evaluate import eval_file, evaluate, held_out_keys, make_eval_sets  # noqa: E402
from hf_files import config_json, generation_config_json, tokenizer_config_json  # noqa: E402
from llama import LlamaConfig, LlamaForCausalLM  # noqa: E402
from model_card import write_model_card  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

# Share of each document kind in the training stream; sentiment and multiple choice carry the
# accuracy targets, chat the demo.
# A first run with sentiment at 24% of documents reached 53% sentiment accuracy (topic 100%,
# multiple choice 84%): the adjectives' polarity is learned late, so sentiment gets the most.
MIX = [('chat', 0.2), ('sentiment', 0.34), ('multiple-choice', 0.2), ('topic', 0.08),
       ('entailment', 0.09), ('similarity', 0.09)]
K_CHOICES = [0, 1, 2, 3, 3, 4, 4, 5, 5, 6]


def sample_document(rng: random.Random, held_out: set[str]) -> str:
    r, kind = rng.random(), MIX[-1][0]
    for name, share in MIX:
        if r < share:
            kind = name
            break
        r -= share
    if kind == 'chat':
        return render_chat(sample_chat(rng)) + '<|endoftext|>'
    p = sample_fewshot(kind, rng, rng.choice(K_CHOICES), 'train', held_out=held_out)
    return fewshot_document(p) + '<|endoftext|>'


def batches(rng: random.Random, tok: BpeTokenizer, held_out: set[str], B: int, S: int):
    """Endless (ids, targets) batches of shape (B, S). Each row starts at a document start, as a
    prompt does at inference, and is filled with documents; the last one is cut at the row's end
    (no padding: with 100-250 token documents padding wasted a fifth of every step)."""
    pending: list[int] | None = None
    while True:
        ids = torch.zeros(B, S + 1, dtype=torch.long)  # (B, S+1)
        for b in range(B):
            row: list[int] = []
            while len(row) < S + 1:
                doc = pending if pending is not None else tok.encode(sample_document(rng, held_out))
                pending = None
                if row and len(row) + len(doc) > S + 1 and rng.random() < 0.5:
                    pending = doc  # half the time the next row also starts with it, whole
                row += doc
            ids[b] = torch.tensor(row[:S + 1])
        yield ids[:, :-1], ids[:, 1:]


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='models/gpt-chat-demo')
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--batch', type=int, default=8, help='rows of --seq tokens; short rows are twice as many')
    ap.add_argument('--seq', type=int, default=512, help='context length (max_position_embeddings)')
    ap.add_argument('--short-seq', type=int, default=256, help='row length for the first --short-frac of steps')
    ap.add_argument('--short-frac', type=float, default=0.85)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--vocab', type=int, default=1536)
    ap.add_argument('--threads', type=int, default=1, help='torch intra-op threads (see top)')
    ap.add_argument('--C', type=int, default=192)
    ap.add_argument('--L', type=int, default=4)
    ap.add_argument('--H', type=int, default=6)
    ap.add_argument('--Hkv', type=int, default=2)
    ap.add_argument('--F', type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(os.path.join(args.out, 'eval'), exist_ok=True)
    t0 = time.time()

    # held-out evaluation items first, so training can avoid their queries
    eval_sets = make_eval_sets(args.seed + 1)
    held_out = held_out_keys(eval_sets)

    # tokenizer: byte-level BPE trained on a sample of the corpus
    tok_rng = random.Random(args.seed + 2)
    tok_texts = [sample_document(tok_rng, held_out) for _ in range(6000)]
    tok = BpeTokenizer.train(tok_texts, args.vocab)
    V = -(-len(tok.vocab) // 64) * 64  # embedding rows rounded up to a multiple of 64
    print(f'tokenizer: {len(tok.vocab)} symbols, {len(tok.merges)} merges, V={V} '
          f'({time.time() - t0:.0f}s)', flush=True)
    with open(os.path.join(args.out, 'tokenizer.json'), 'w') as f:
        json.dump(tok.to_hf_json(), f, ensure_ascii=False, indent=2)
    with open(os.path.join(args.out, 'tokenizer_config.json'), 'w') as f:
        json.dump(tokenizer_config_json(SPECIAL_TOKENS, args.seq), f, ensure_ascii=False, indent=2)
    check_tokenizer_with_js(args.out, tok, tok_texts[:300] + [p['prompt'] for s in eval_sets.values() for p in s[:5]])

    cfg = LlamaConfig(V=V, C=args.C, L=args.L, H=args.H, Hkv=args.Hkv, F=args.F, S=args.seq)
    model = LlamaForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f'model: {n_params / 1e6:.2f}M parameters, {cfg}', flush=True)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    # Short rows first (attention's (T, T) passes dominate on this CPU), then full-context rows so
    # that every position up to --seq is trained; the tokens per step stay the same.
    data_rng = random.Random(args.seed + 3)
    short_steps = int(args.steps * args.short_frac)
    short_batch = args.batch * args.seq // args.short_seq
    data = batches(data_rng, tok, held_out, short_batch, args.short_seq)
    t_train, tokens, loss_avg = time.time(), 0, None
    model.train()
    for step in range(args.steps):
        if step == short_steps:
            data = batches(data_rng, tok, held_out, args.batch, args.seq)
        x, y = next(data)
        for g in opt.param_groups:
            g['lr'] = lr_at(step, args.steps, args.lr, warmup=min(100, args.steps // 10))
        logits = model(x)  # (B, S, V)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += y.numel()
        loss_avg = loss.item() if loss_avg is None else 0.95 * loss_avg + 0.05 * loss.item()
        if step % 25 == 0 or step == args.steps - 1:
            dt = time.time() - t_train
            print(f'step {step}/{args.steps} loss {loss_avg:.3f} lr {opt.param_groups[0]["lr"]:.2e} '
                  f'{tokens / dt:.0f} tok/s {dt / 60:.1f} min', flush=True)
    train_minutes = (time.time() - t_train) / 60

    # ship F16; measure what ships (read the file back)
    tensors = {k: v.half() for k, v in model.state_dict().items()}
    st_path = os.path.join(args.out, 'model.safetensors')
    write_safetensors(st_path, tensors, {'format': 'pt'})
    for name, path_obj in [('config.json', config_json(cfg)), ('generation_config.json', generation_config_json())]:
        with open(os.path.join(args.out, name), 'w') as f:
            json.dump(path_obj, f, indent=2)
    shipped = LlamaForCausalLM(cfg)
    shipped.load_state_dict(read_safetensors(st_path))
    results = evaluate(shipped, tok, eval_sets)
    for name, items in eval_sets.items():
        with open(os.path.join(args.out, 'eval', f'{name}.json'), 'w') as f:
            json.dump(eval_file(name, items, results['accuracy'][name]), f, indent=1)
    with open(os.path.join(args.out, 'eval', 'chat.json'), 'w') as f:
        json.dump({'description': 'Held-out user messages (never in training) and keywords an on-topic '
                                  'greedy reply contains (any one, case-insensitive).',
                   'system': DEFAULT_SYSTEM, 'items': results['chats']}, f, indent=1)
    stats = {'params': n_params, 'steps': args.steps, 'short_steps': short_steps, 'short_batch': short_batch,
             'short_seq': args.short_seq, 'batch': args.batch, 'seq': args.seq,
             'tokens': tokens, 'train_minutes': train_minutes, 'total_minutes': (time.time() - t0) / 60,
             'final_loss': loss_avg, 'vocab_symbols': len(tok.vocab), 'argv': ' '.join(sys.argv[1:])}
    write_model_card(os.path.join(args.out, 'README.md'), cfg, stats, results)
    print(json.dumps({'accuracy': results['accuracy'], **stats}, indent=1))
    for c in results['chats']:
        print(('OK  ' if c['onTopic'] else 'OFF ') + repr(c['user']) + ' -> ' + repr(c['reply']))


def check_tokenizer_with_js(folder: str, tok: BpeTokenizer, texts: list[str]) -> None:
    """Fails the run unless @huggingface/tokenizers encodes texts to the same ids as tok, and
    @huggingface/jinja renders the chat template as render_chat does."""
    extra = ['Hello  world!\n\n  two  spaces', "it's 42 o'clock, isn't it?", 'tabs\tand\r\nnewlines  \n',
             'caf\u00e9 na\u00efve \u4f60\u597d \U0001F600', '<gpt-chat></gpt-chat>', '   leading']
    chats = []
    for msgs, gen in [([{'role': 'user', 'content': 'hi'}], True),
                      ([{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'hello'},
                        {'role': 'assistant', 'content': 'Hi!'}], False)]:
        full = msgs if msgs[0]['role'] == 'system' else [{'role': 'system', 'content': DEFAULT_SYSTEM}] + msgs
        chats.append({'messages': msgs, 'addGenerationPrompt': gen, 'text': render_chat(full, gen)})
    cases = {'encode': [{'text': t, 'ids': tok.encode(t)} for t in texts + extra], 'chats': chats}
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(cases, f)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'check-tokenizer.mjs')
    try:
        subprocess.run(['node', script, folder, f.name], check=True)
    finally:
        os.unlink(f.name)


if __name__ == '__main__':
    main()
