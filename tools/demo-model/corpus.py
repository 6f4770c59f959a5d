"""The synthetic training corpus: ChatML chats about gpt-chat and few-shot task prompts.

Everything is built from the word lists and sentence patterns below with a seeded random.Random, so
the corpus is reproducible and nothing is downloaded. Held-out evaluation items are drawn first
(split 'eval'; split 'eval-frames' also uses sentiment patterns that training never sees) and the
training sampler rejects any example or query text that appears among them, so accuracy is
measured on sentences the model never saw.
"""
from __future__ import annotations

import random

from fewshot import render_prompt

# ---------------------------------------------------------------------------------------------
# Sentiment
NOUNS = ['food', 'service', 'movie', 'book', 'hotel', 'room', 'staff', 'music', 'phone', 'game',
         'show', 'pizza', 'coffee', 'trip', 'app', 'story', 'camera', 'restaurant', 'concert',
         'laptop', 'soup', 'bed', 'view', 'teacher', 'class', 'song', 'park', 'museum', 'jacket', 'car']
POS_ADJ = ['great', 'wonderful', 'excellent', 'amazing', 'delicious', 'friendly', 'lovely',
           'fantastic', 'perfect', 'brilliant', 'pleasant', 'superb', 'charming', 'beautiful',
           'comfortable', 'helpful', 'fun', 'enjoyable', 'tasty', 'awesome']
NEG_ADJ = ['terrible', 'awful', 'horrible', 'bad', 'boring', 'rude', 'dirty', 'broken', 'bland',
           'disappointing', 'poor', 'slow', 'noisy', 'ugly', 'stale', 'painful', 'useless',
           'annoying', 'dull', 'gross']
POS_PHRASE = ['I would come back again', 'highly recommended', 'worth every penny',
              'I loved every minute', 'the best one I have tried', 'I will tell all my friends']
NEG_PHRASE = ['never again', 'a total waste of money', 'I want a refund', 'I walked out early',
              'the worst one I have tried', 'I would not recommend it']
ADV = ['really', 'very', 'so', 'truly', 'quite', 'incredibly']
SENTIMENT_FRAMES = ['The {n} was {a}.', 'I thought the {n} was {a}.', 'The {n} was {adv} {a}.',
                    'The {n} was {a} and the {n2} was {a2}.', '{Adv} {a} {n}.',
                    'This {n} is {a}. {P}.', '{P}. The {n} was {a}.', 'Such {art} {n}!',
                    'Our {n} was {a}, {p}.']
SENTIMENT_EVAL_FRAMES = ['Honestly, the {n} felt {a}.', 'My friends said the {n} was {a}, and I agree.',
                         'We found the {n} {adv} {a}.']
# (positive, negative) label words. The unseen pairs are never label words in training.
SENTIMENT_LABELS = [('positive', 'negative'), ('good', 'bad'), ('great', 'awful'), ('happy', 'sad'),
                    ('yes', 'no'), ('love', 'hate'), ('pos', 'neg'), ('true', 'false'),
                    ('glad', 'angry'), ('plus', 'minus'), ('nice', 'mean'), ('win', 'lose')]
SENTIMENT_LABELS_UNSEEN = [('like', 'dislike'), ('up', 'down'), ('best', 'worst'), ('cool', 'lame')]
# Arbitrary label words: with these only the prompt says which word means what.
ARBITRARY_LABELS = ['red', 'blue', 'green', 'cat', 'dog', 'apple', 'pear', 'sun', 'moon', 'tea',
                    'milk', 'rock', 'tree', 'star', 'fish', 'bird', 'boat', 'one', 'two', 'alpha',
                    'beta', 'x', 'y', 'left', 'right', 'hot', 'cold', 'north', 'south', 'A', 'B', 'C', 'D']


def article(word: str) -> str:
    return ('an ' if word[0] in 'aeiou' else 'a ') + word


def sentiment_text(rng: random.Random, positive: bool, split: str) -> str:
    adjs, phrases = (POS_ADJ, POS_PHRASE) if positive else (NEG_ADJ, NEG_PHRASE)
    # split 'eval-frames': only sentence patterns never used in training (a harder, separate measure)
    frame = rng.choice(SENTIMENT_EVAL_FRAMES if split == 'eval-frames' else SENTIMENT_FRAMES)
    n, n2 = rng.sample(NOUNS, 2)
    a, a2 = rng.sample(adjs, 2)
    adv, p = rng.choice(ADV), rng.choice(phrases)
    return frame.format(n=n, n2=n2, a=a, a2=a2, adv=adv, Adv=adv.capitalize(), p=p,
                        P=p[0].upper() + p[1:], art=article(a) + '')


# ---------------------------------------------------------------------------------------------
# Topic: four classes in a fixed order (sports, science, business, food); names vary per prompt.
TOPIC_SUBJECTS = [
    ['The home team', 'The national team', 'A young striker', 'The tennis champion', 'The coach',
     'Local runners', 'The goalkeeper', 'The cycling team'],
    ['Scientists', 'Researchers', 'A new telescope', 'The space agency', 'Biologists',
     'A physics lab', 'Doctors', 'Chemists'],
    ['The company', 'Shares', 'The central bank', 'A tech startup', 'Investors', 'The retail giant',
     'Oil prices', 'The stock market'],
    ['The chef', 'A new bakery', 'This soup recipe', 'The restaurant', 'Home cooks', 'A pizza shop',
     'Farmers markets', 'The cookbook'],
]
TOPIC_PREDICATES = [
    ['win the final', 'lose the derby', 'break the world record', 'sign a new contract',
     'score a late goal', 'reach the semi final', 'train for the marathon', 'celebrate the league title'],
    ['discover a new planet', 'map the human brain', 'find water on Mars', 'study ancient fossils',
     'test a new vaccine', 'measure gravity waves', 'observe a distant galaxy', 'decode the genes of a rare frog'],
    ['report record profits', 'fall after weak sales', 'raise interest rates', 'hire a new boss',
     'buy a rival firm', 'plan to cut jobs', 'rise on strong earnings', 'announce a merger'],
    ['serve the best pasta in town', 'share a secret bread recipe', 'open a vegan menu',
     'win a baking contest', 'make cheese at home', 'grill summer vegetables',
     'bring back the chocolate cake', 'try a spicy noodle dish'],
]
TOPIC_LABELS = [['sports', 'science', 'business', 'food'], ['sport', 'tech', 'money', 'cooking'],
                ['games', 'research', 'finance', 'kitchen'], ['athletics', 'lab', 'markets', 'meals'],
                ['football', 'space', 'economy', 'recipes']]
TOPIC_LABELS_UNSEEN = [['teams', 'physics', 'trade', 'dinner']]


def topic_text(rng: random.Random, cls: int) -> str:
    subject = rng.choice(TOPIC_SUBJECTS[cls])
    predicate = rng.choice(TOPIC_PREDICATES[cls])
    return f'{subject} {predicate}' if rng.random() < 0.5 else f'{subject} will {predicate}'


# ---------------------------------------------------------------------------------------------
# Entailment: labels yes / no / maybe.
PEOPLE = ['The man', 'A woman', 'The boy', 'The girl', 'My neighbor', 'The teacher', 'A doctor',
          'The old man', 'The student', 'A farmer']
SCENES = [('reading a book', 'library', 'reading'), ('swimming', 'pool', 'in the water'),
          ('cooking dinner', 'kitchen', 'making food'), ('playing the piano', 'living room', 'making music'),
          ('painting a fence', 'garden', 'outside'), ('riding a bike', 'park', 'on a bike'),
          ('buying bread', 'shop', 'shopping'), ('writing a letter', 'office', 'writing'),
          ('sleeping', 'bedroom', 'resting'), ('fishing', 'lake', 'near the water')]
MAYBE_HYPOTHESES = ['{P} is happy.', '{P} is tired.', '{P} is waiting for a friend.',
                    '{P} does this every day.', '{P} is late for work.', '{P} is {act} with a friend.',
                    '{P} is hungry.', '{P} is on holiday.']
YES_HYPOTHESES = ['{P} is in the {place}.', 'Someone is {act}.', '{P} is {general}.',
                  'There is someone in the {place}.', 'A person is in the {place}.']
NO_HYPOTHESES = ['{P} is {other_act}.', 'Nobody is in the {place}.', '{P} is not {act}.',
                 '{P} is in the {other_place}.', 'The {place} is empty.']


def entailment_fields(rng: random.Random, label: str) -> dict[str, str]:
    person = rng.choice(PEOPLE)
    (act, place, general), other = rng.sample(SCENES, 2)
    premise = f'{person} is {act} in the {place}.'
    pool = {'yes': YES_HYPOTHESES, 'no': NO_HYPOTHESES, 'maybe': MAYBE_HYPOTHESES}[label]
    hyp = rng.choice(pool).format(P=person, act=act, place=place, general=general,
                                  other_act=other[0], other_place=other[1])
    return {'premise': premise, 'hypothesis': hyp}


# ---------------------------------------------------------------------------------------------
# Similarity: labels same / different.
SIM_SUBJECTS = ['The children', 'My brother', 'The old woman', 'Our team', 'The doctor', 'A student',
                'The neighbors', 'My aunt']
SIM_VERBS = [('bought', 'purchased'), ('started', 'began'), ('fixed', 'repaired'), ('closed', 'shut'),
             ('picked', 'chose'), ('finished', 'completed'), ('saw', 'noticed'), ('cleaned', 'washed')]
SIM_OBJECTS = [('the car', 'the automobile'), ('a big cake', 'a large cake'), ('the old door', 'the old door'),
               ('the new phone', 'the new phone'), ('a small house', 'a little house'),
               ('the report', 'the report'), ('the window', 'the window'), ('a fast bike', 'a quick bike')]


def similarity_fields(rng: random.Random, label: str) -> dict[str, str]:
    s = rng.choice(SIM_SUBJECTS)
    v = rng.choice(SIM_VERBS)
    o = rng.choice(SIM_OBJECTS)
    a = f'{s} {v[0]} {o[0]}.'
    if label == 'same':
        kind = rng.randrange(3)
        if kind == 0:
            b = f'{s} {v[1]} {o[1]}.'
        elif kind == 1:
            b = f'{o[0][0].upper() + o[0][1:]} was {v[0]} by {s[0].lower() + s[1:]}.'
        else:
            b = f'{s} {v[1]} {o[0]}.'
    else:
        kind = rng.randrange(3)
        if kind == 0:
            s2 = rng.choice([x for x in SIM_SUBJECTS if x != s])
            b = f'{s2} {rng.choice(v)} {o[0]}.'
        elif kind == 1:
            o2 = rng.choice([x for x in SIM_OBJECTS if x != o])
            b = f'{s} {rng.choice(v)} {rng.choice(o2)}.'
        else:
            v2 = rng.choice([x for x in SIM_VERBS if x != v])
            b = f'{s} {rng.choice(v2)} {o[1]}.'
    if rng.random() < 0.5:
        a, b = b, a
    return {'a': a, 'b': b}


# ---------------------------------------------------------------------------------------------
# Multiple choice: the label is the option text; each item has its own four options.
CATEGORIES = {
    'fruit': ['apple', 'banana', 'orange', 'grape', 'pear', 'mango', 'cherry', 'lemon', 'peach', 'plum'],
    'animal': ['dog', 'cat', 'horse', 'cow', 'lion', 'tiger', 'rabbit', 'sheep', 'goat', 'bear'],
    'color': ['red', 'blue', 'green', 'yellow', 'purple', 'pink', 'brown', 'black', 'white'],
    'vehicle': ['car', 'bus', 'train', 'bicycle', 'truck', 'boat', 'plane', 'taxi'],
    'tool': ['hammer', 'saw', 'drill', 'wrench', 'shovel', 'axe', 'screwdriver'],
    'instrument': ['piano', 'guitar', 'violin', 'drum', 'flute', 'trumpet', 'harp'],
    'piece of clothing': ['shirt', 'hat', 'coat', 'dress', 'sock', 'scarf', 'jacket'],
    'country': ['France', 'Japan', 'Brazil', 'Kenya', 'Canada', 'India', 'Spain', 'Egypt'],
}
COLOR_FACTS = [('the sky', 'blue'), ('grass', 'green'), ('snow', 'white'), ('a banana', 'yellow'),
               ('coal', 'black'), ('a strawberry', 'red'), ('chocolate', 'brown'), ('a lemon', 'yellow'),
               ('milk', 'white'), ('a tomato', 'red'), ('a frog', 'green'), ('the night sky', 'black')]
SOUND_FACTS = [('woof', 'dog'), ('meow', 'cat'), ('moo', 'cow'), ('baa', 'sheep'), ('quack', 'duck'),
               ('roar', 'lion'), ('hoot', 'owl'), ('neigh', 'horse'), ('oink', 'pig')]
ANTONYMS = [('hot', 'cold'), ('big', 'small'), ('fast', 'slow'), ('happy', 'sad'), ('light', 'dark'),
            ('early', 'late'), ('open', 'closed'), ('full', 'empty'), ('old', 'new'), ('wet', 'dry'),
            ('loud', 'quiet'), ('high', 'low')]
LEG_FACTS = [('dog', 'four'), ('bird', 'two'), ('spider', 'eight'), ('ant', 'six'), ('cat', 'four'),
             ('chicken', 'two'), ('bee', 'six'), ('horse', 'four'), ('octopus', 'eight'), ('duck', 'two')]
USE_FACTS = [('cut wood', 'saw'), ('drive a nail', 'hammer'), ('dig a hole', 'shovel'),
             ('write a letter', 'pen'), ('sweep the floor', 'broom'), ('cut paper', 'scissors'),
             ('tell the time', 'clock'), ('open a door', 'key')]


def mc_fields(rng: random.Random) -> tuple[dict[str, str], str]:
    kind = rng.randrange(6)
    if kind == 0:
        cat = rng.choice(list(CATEGORIES))
        gold = rng.choice(CATEGORIES[cat])
        others = [w for c, ws in CATEGORIES.items() if c != cat for w in ws]
        q = f'Which of these is {article(cat)}?'
        wrong = rng.sample(others, 3)
    elif kind == 1:
        thing, gold = rng.choice(COLOR_FACTS)
        q = f'What color is {thing}?'
        wrong = rng.sample([c for c in CATEGORIES['color'] if c != gold], 3)
    elif kind == 2:
        sound, gold = rng.choice(SOUND_FACTS)
        q = f'Which animal says {sound}?'
        wrong = rng.sample([a for _, a in SOUND_FACTS if a != gold], 3)
    elif kind == 3:
        pair = rng.choice(ANTONYMS)
        word, gold = pair if rng.random() < 0.5 else pair[::-1]
        q = f'What is the opposite of {word}?'
        wrong = rng.sample([w for p in ANTONYMS if p != pair for w in p], 3)
    elif kind == 4:
        animal, gold = rng.choice(LEG_FACTS)
        q = f'How many legs does {article(animal)} have?'
        wrong = rng.sample([n for n in ['zero', 'two', 'four', 'six', 'eight'] if n != gold], 3)
    else:
        task, gold = rng.choice(USE_FACTS)
        q = f'What do you use to {task}?'
        wrong = rng.sample([t for _, t in USE_FACTS if t != gold], 3)
    options = wrong + [gold]
    rng.shuffle(options)
    return {'question': q, 'a': options[0], 'b': options[1], 'c': options[2], 'd': options[3]}, gold


# ---------------------------------------------------------------------------------------------
# Few-shot prompts

def _item(task: str, rng: random.Random, cls: int, labels: list[str], split: str) -> tuple[dict, str, list[str]]:
    """One (fields, gold label, label set) of class index cls (ignored for multiple choice)."""
    if task == 'sentiment':
        return {'text': sentiment_text(rng, cls == 0, split)}, labels[cls], labels
    if task == 'topic':
        return {'text': topic_text(rng, cls)}, labels[cls], labels
    if task == 'entailment':
        return entailment_fields(rng, labels[cls]), labels[cls], labels
    if task == 'similarity':
        return similarity_fields(rng, labels[cls]), labels[cls], labels
    fields, gold = mc_fields(rng)
    return fields, gold, [fields[k] for k in 'abcd']


def query_key(task: str, fields: dict[str, str]) -> str:
    """What must not repeat between training and evaluation: the query's text."""
    return task + '|' + '|'.join(fields[k] for k in sorted(fields))


def sample_labels(task: str, rng: random.Random, split: str, unseen: bool = False) -> list[str]:
    """The prompt's label words, in instruction order (class 0 first)."""
    if task == 'sentiment':
        if unseen:
            return list(rng.choice(SENTIMENT_LABELS_UNSEEN))
        if split == 'train' and rng.random() < 0.25:
            return rng.sample(ARBITRARY_LABELS, 2)
        return list(rng.choice(SENTIMENT_LABELS))
    if task == 'topic':
        if unseen:
            return list(rng.choice(TOPIC_LABELS_UNSEEN))
        if split == 'train' and rng.random() < 0.3:
            return rng.sample(ARBITRARY_LABELS, 4)
        return list(rng.choice(TOPIC_LABELS))
    if task == 'entailment':
        return ['yes', 'no', 'maybe']
    if task == 'similarity':
        return ['same', 'different']
    return []


N_CLASSES = {'sentiment': 2, 'topic': 4, 'entailment': 3, 'similarity': 2, 'multiple-choice': 1}


def sample_fewshot(task: str, rng: random.Random, k: int, split: str, unseen: bool = False,
                   held_out: set[str] | None = None) -> dict:
    """A few-shot prompt: {task, labels, instruction labels, examples, query, gold}.

    Examples cycle through the classes (shuffled) so every label word shows up when k allows.
    Examples and queries whose text is in held_out are redrawn (training prompts pass the
    evaluation queries here).
    """
    labels = sample_labels(task, rng, split, unseen)
    n = N_CLASSES[task]
    classes = [i % n for i in range(k)]
    rng.shuffle(classes)
    examples = []
    for cls in classes:
        while True:
            fields, gold, _ = _item(task, rng, cls, labels, 'train')
            if held_out is None or query_key(task, fields) not in held_out:
                break
        examples.append({'fields': fields, 'label': gold})
    while True:
        fields, gold, item_labels = _item(task, rng, rng.randrange(n), labels, split)
        if held_out is None or query_key(task, fields) not in held_out:
            break
    # The instruction names the labels in class order (positive first). A first run that swapped
    # them in 10% of training prompts (and used arbitrary label words in 40%) reached only 53%
    # sentiment accuracy in 20 minutes; the order is now a reliable cue.
    instruction_labels = labels
    return {'task': task, 'labels': item_labels, 'instructionLabels': instruction_labels,
            'examples': examples, 'query': fields, 'gold': gold}


def fewshot_document(p: dict) -> str:
    """A training document: the prompt followed by the gold answer."""
    return render_prompt(p['task'], p['instructionLabels'], p['examples'], p['query']) + ' ' + p['gold']
