"""Measures the trained model the way the runtime will use it: label scoring and greedy chat.

A label's score is the summed log-probability of the tokens of " {label}" after the prompt; the
prediction is the best-scoring label. Held-out items are written to models/gpt-chat-demo/eval/ so
the TypeScript tests can re-measure accuracy through our runtime.
"""
from __future__ import annotations

import random

import torch

from bpe import BpeTokenizer
from chats import DEFAULT_SYSTEM, HELD_OUT_CHATS, render_chat
from corpus import N_CLASSES, query_key, sample_fewshot
from fewshot import TEMPLATES, render_prompt
from llama import LlamaForCausalLM

# (file name, task, number of items, unseen label words, split). Split 'eval' draws queries from the
# training patterns (each query sentence is excluded from training); 'eval-frames' uses sentence
# patterns that training never sees.
EVAL_SETS = [('sentiment', 'sentiment', 100, False, 'eval'),
             ('sentiment-unseen-labels', 'sentiment', 100, True, 'eval'),
             ('sentiment-unseen-patterns', 'sentiment', 60, False, 'eval-frames'),
             ('multiple-choice', 'multiple-choice', 100, False, 'eval'),
             ('topic', 'topic', 60, False, 'eval'),
             ('topic-unseen-labels', 'topic', 60, True, 'eval'),
             ('entailment', 'entailment', 60, False, 'eval'),
             ('similarity', 'similarity', 60, False, 'eval')]
EVAL_K = 4


def make_eval_sets(seed: int) -> dict[str, list[dict]]:
    """The held-out prompts, drawn before training from their own seed (queries all distinct)."""
    rng = random.Random(seed)
    sets: dict[str, list[dict]] = {}
    for name, task, n, unseen, split in EVAL_SETS:
        items, seen = [], set()
        while len(items) < n:
            p = sample_fewshot(task, rng, EVAL_K, split, unseen=unseen)
            key = query_key(task, p['query'])
            if key in seen:
                continue
            # balance gold classes where the task has fixed classes
            if N_CLASSES[task] > 1 and p['labels'].index(p['gold']) != len(items) % N_CLASSES[task]:
                continue
            seen.add(key)
            p['prompt'] = render_prompt(task, p['instructionLabels'], p['examples'], p['query'])
            items.append(p)
        sets[name] = items
    return sets


def held_out_keys(sets: dict[str, list[dict]]) -> set[str]:
    return {query_key(p['task'], p['query']) for items in sets.values() for p in items}


@torch.no_grad()
def score_labels(model: LlamaForCausalLM, tok: BpeTokenizer, prompt: str, labels: list[str]) -> list[float]:
    """Summed log-probability of " {label}" after prompt, for each label."""
    p = tok.encode(prompt)
    conts = [tok.encode(' ' + l) for l in labels]
    T = len(p) + max(len(c) for c in conts)
    ids = torch.zeros(len(labels), T, dtype=torch.long)  # (B, T) right-padded with 0
    for b, c in enumerate(conts):
        ids[b, :len(p) + len(c)] = torch.tensor(p + c)
    logp = model(ids).log_softmax(-1)  # (B, T, V)
    return [sum(logp[b, len(p) - 1 + j, c[j]].item() for j in range(len(c))) for b, c in enumerate(conts)]


@torch.no_grad()
def greedy(model: LlamaForCausalLM, tok: BpeTokenizer, text: str, max_new: int = 80, stop=(0, 2)) -> str:
    """Greedy continuation of text until a stop id (<|im_end|> or <|endoftext|>)."""
    ids = tok.encode(text)
    out: list[int] = []
    for _ in range(max_new):
        nxt = int(model(torch.tensor([ids + out]))[0, -1].argmax())
        if nxt in stop:
            break
        out.append(nxt)
    return tok.decode(out)


def evaluate(model: LlamaForCausalLM, tok: BpeTokenizer, sets: dict[str, list[dict]]) -> dict:
    """Accuracy per eval set (predictions stored in the items) and the held-out chat replies."""
    model.eval()
    results: dict = {'accuracy': {}, 'chats': []}
    for name, items in sets.items():
        correct = 0
        for p in items:
            scores = score_labels(model, tok, p['prompt'], p['labels'])
            p['predicted'] = p['labels'][max(range(len(scores)), key=scores.__getitem__)]
            correct += p['predicted'] == p['gold']
        results['accuracy'][name] = correct / len(items)
    for c in HELD_OUT_CHATS:
        text = render_chat([{'role': 'system', 'content': DEFAULT_SYSTEM},
                            {'role': 'user', 'content': c['user']}], add_generation_prompt=True)
        reply = greedy(model, tok, text)
        ok = any(k in reply.lower() for k in c['keywords'])
        results['chats'].append({**c, 'reply': reply, 'onTopic': ok})
    return results


def eval_file(name: str, items: list[dict], accuracy: float) -> dict:
    """The JSON written to eval/{name}.json for the TypeScript tests."""
    task = items[0]['task']
    instruction, pattern, prefix = TEMPLATES[task]
    return {
        'task': task,
        'description': f'{len(items)} held-out {task} prompts (queries never seen in training), '
                       f'{EVAL_K} examples each. Score " {{label}}" after the prompt; predict the best.',
        'template': {'instruction': instruction, 'pattern': pattern, 'answerPrefix': prefix},
        'measuredAccuracy': accuracy,
        'items': [{'labels': p['labels'], 'instructionLabels': p['instructionLabels'],
                   'examples': p['examples'], 'query': p['query'], 'gold': p['gold'],
                   'prompt': p['prompt'], 'predicted': p['predicted']} for p in items],
    }
