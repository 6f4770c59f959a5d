"""Byte-level BPE (GPT-2 style): training, encoding, decoding and the Hugging Face tokenizer.json.

The runtime tokenises with the npm @huggingface/tokenizers library, so everything here follows the
Hugging Face semantics exactly: the GPT-2 byte-to-unicode table, the ByteLevel pre-tokenizer regex,
merges applied lowest rank first, added tokens split out before the model sees the text.
check_tokenizer.mjs verifies that the JS library's ids equal encode() below.
"""
from __future__ import annotations

import collections
import re

SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']

# The GPT-2 split: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# Python's re has no \p{..}: [^\W\d_] is "letter", \d is "decimal digit". Exact for ASCII (the whole
# corpus is ASCII); for other scripts \p{N} also covers No/Nl, which \d does not.
PRETOKENIZE = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:_|[^\s\w])+|\s+(?!\S)|\s+""")
SPECIAL_SPLIT = re.compile('(' + '|'.join(re.escape(t) for t in SPECIAL_TOKENS) + ')')


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + \
        list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text: str) -> list[str]:
    """Splits text by the GPT-2 regex and maps each piece's UTF-8 bytes to byte symbols."""
    return [''.join(BYTE_TO_CHAR[b] for b in piece.encode('utf-8'))
            for piece in PRETOKENIZE.findall(text)]


class BpeTokenizer:
    """A trained byte-level BPE: vocab (symbol -> id) and ranked merges."""

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]):
        self.vocab = vocab
        self.merges = merges
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.cache: dict[str, list[int]] = {}

    @staticmethod
    def train(texts: list[str], vocab_size: int) -> 'BpeTokenizer':
        """Learns merges from texts (special tokens removed) until vocab_size symbols exist."""
        vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
        for b in range(256):
            vocab[BYTE_TO_CHAR[b]] = len(vocab)
        word_counts: collections.Counter[str] = collections.Counter()
        for text in texts:
            for part in SPECIAL_SPLIT.split(text):
                if part and part not in SPECIAL_TOKENS:
                    word_counts.update(pretokenize(part))
        words = [(list(w), c) for w, c in word_counts.items()]
        pair_counts: collections.Counter[tuple[str, str]] = collections.Counter()
        for symbols, count in words:
            for pair in zip(symbols, symbols[1:]):
                pair_counts[pair] += count
        merges: list[tuple[str, str]] = []
        while len(vocab) < vocab_size and pair_counts:
            # Most frequent pair; ties broken by the pair itself so the result is deterministic.
            best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
            if pair_counts[best] < 2:
                break
            merges.append(best)
            merged = best[0] + best[1]
            if merged not in vocab:
                vocab[merged] = len(vocab)
            for symbols, count in words:
                if len(symbols) < 2:
                    continue
                i = 0
                changed = False
                while i < len(symbols) - 1:
                    if symbols[i] == best[0] and symbols[i + 1] == best[1]:
                        changed = True
                        break
                    i += 1
                if not changed:
                    continue
                for pair in zip(symbols, symbols[1:]):
                    pair_counts[pair] -= count
                out = []
                i = 0
                while i < len(symbols):
                    if i < len(symbols) - 1 and symbols[i] == best[0] and symbols[i + 1] == best[1]:
                        out.append(merged)
                        i += 2
                    else:
                        out.append(symbols[i])
                        i += 1
                symbols[:] = out
                for pair in zip(symbols, symbols[1:]):
                    pair_counts[pair] += count
            pair_counts = collections.Counter({p: c for p, c in pair_counts.items() if c > 0})
        return BpeTokenizer(vocab, merges)

    def _bpe(self, word: str) -> list[int]:
        """Merges one pre-token's symbols, lowest-ranked pair first (Hugging Face BPE)."""
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        symbols = list(word)
        while len(symbols) > 1:
            best_rank, best_i = None, -1
            for i in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[i], symbols[i + 1]))
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank, best_i = rank, i
            if best_rank is None:
                break
            pair = self.merges[best_rank]
            out = []
            i = 0
            while i < len(symbols):
                if i < len(symbols) - 1 and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
                    out.append(pair[0] + pair[1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        ids = [self.vocab[s] for s in symbols]
        self.cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Text -> ids; special tokens written literally in the text become their ids."""
        ids: list[int] = []
        for part in SPECIAL_SPLIT.split(text):
            if not part:
                continue
            if part in SPECIAL_TOKENS:
                ids.append(self.vocab[part])
            else:
                for word in pretokenize(part):
                    ids.extend(self._bpe(word))
        return ids

    def decode(self, ids: list[int]) -> str:
        """Ids -> text; special tokens are written out as their strings."""
        out: list[str] = []
        buf = bytearray()
        for i in ids:
            tok = self.id_to_token[i]
            if tok in SPECIAL_TOKENS:
                out.append(buf.decode('utf-8', errors='replace'))
                buf = bytearray()
                out.append(tok)
            else:
                buf.extend(CHAR_TO_BYTE[c] for c in tok)
        out.append(buf.decode('utf-8', errors='replace'))
        return ''.join(out)

    def to_hf_json(self) -> dict:
        """The tokenizer.json object in the Hugging Face `tokenizers` format (as SmolLM2 ships)."""
        byte_level = {'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
        return {
            'version': '1.0',
            'truncation': None,
            'padding': None,
            'added_tokens': [
                {'id': self.vocab[t], 'content': t, 'single_word': False, 'lstrip': False,
                 'rstrip': False, 'normalized': False, 'special': True}
                for t in SPECIAL_TOKENS],
            'normalizer': None,
            'pre_tokenizer': {'type': 'ByteLevel', **byte_level},
            'post_processor': {'type': 'ByteLevel', **byte_level},
            'decoder': {'type': 'ByteLevel', **byte_level},
            'model': {
                'type': 'BPE', 'dropout': None, 'unk_token': None,
                'continuing_subword_prefix': None, 'end_of_word_suffix': None,
                'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                'vocab': self.vocab,
                'merges': [f'{a} {b}' for a, b in self.merges],
            },
        }
