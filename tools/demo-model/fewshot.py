"""The few-shot prompt format shared with src/templates (it renders exactly this).

prompt = instruction + "\n\n" + examples joined by "\n\n" + "\n\n" + query, where an example is
"{pattern filled}{answer prefix} {label}" and the query is "{pattern filled}{answer prefix}".
With no examples the parts are simply joined: instruction + "\n\n" + query. A label's score is the
log-probability of " {label}" (leading space) after the query.
"""
from __future__ import annotations

import re

# The five built-in templates: instruction (may name the labels as {L1}..{L4}), pattern, answer prefix.
TEMPLATES = {
    'sentiment': ('Classify each review as {L1} or {L2}.', 'Review: {text}\n', 'Sentiment:'),
    'topic': ('Classify each headline by topic: {L1}, {L2}, {L3} or {L4}.', 'Headline: {text}\n', 'Topic:'),
    'entailment': ('Does the premise imply the hypothesis? Answer yes, no or maybe.',
                   'Premise: {premise}\nHypothesis: {hypothesis}\n', 'Answer:'),
    'similarity': ('Do the two sentences mean the same thing? Answer same or different.',
                   'Sentence 1: {a}\nSentence 2: {b}\n', 'Answer:'),
    'multiple-choice': ('Answer each question with one of the options.',
                        'Question: {question}\nOptions: {a}, {b}, {c}, {d}\n', 'Answer:'),
}

FIELD = re.compile(r'\{(\w+)\}')


def fill(pattern: str, fields: dict[str, str]) -> str:
    """Replaces each {name} in pattern by fields[name] (a missing field is a bug: KeyError)."""
    return FIELD.sub(lambda m: fields[m.group(1)], pattern)


def instruction_for(task: str, labels: list[str]) -> str:
    """The task's instruction with the prompt's label words filled in as L1, L2, ..."""
    return fill(TEMPLATES[task][0], {f'L{i + 1}': l for i, l in enumerate(labels)})


def render_example(task: str, fields: dict[str, str], label: str) -> str:
    _, pattern, prefix = TEMPLATES[task]
    return f'{fill(pattern, fields)}{prefix} {label}'


def render_query(task: str, fields: dict[str, str]) -> str:
    _, pattern, prefix = TEMPLATES[task]
    return f'{fill(pattern, fields)}{prefix}'


def render_prompt(task: str, labels: list[str], examples: list[dict], query: dict[str, str]) -> str:
    """The whole prompt up to the answer prefix; examples are {'fields': ..., 'label': ...}."""
    parts = [instruction_for(task, labels)]
    parts += [render_example(task, e['fields'], e['label']) for e in examples]
    parts.append(render_query(task, query))
    return '\n\n'.join(parts)
