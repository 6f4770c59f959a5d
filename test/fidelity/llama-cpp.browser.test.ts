// llama.cpp itself as the reference. @wllama/wllama (llama.cpp compiled to WebAssembly; one thread,
// CPU) and our runtime (CPU backend) run the same GGUF files of the bundled demo model
// (test/fixtures/generated/gguf/gpt-chat-demo-<type>.gguf, written by tools/make-fixtures.mjs with
// our quantizer) in this Chromium, greedily, on held-out prompts, and the continuations are compared
// token by token. F16 and Q8_0 must agree on every token. Q4_0 and Q4_K may split, but only where
// llama.cpp itself nearly hesitates: at a split our token is its own second choice, and its top-2
// log-probability gap (= the logit gap) is small. Files the checkout cannot write yet are skipped.
import { expect } from 'chai';
import { Wllama } from '@wllama/wllama';
import { loadLanguageModel, type LanguageModel } from '../../src/runtime/index.ts';

const WASM = '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm';
const GGUF = (type: string) => `/test/fixtures/generated/gguf/gpt-chat-demo-${type}.gguf`;
const TOKENS = 16;
// Largest top-2 gap (nats) of llama.cpp's at which a 4-bit split is accepted as a near-tie. Q4
// weights move logits by a few tenths on this model (measured: see the log lines of this test).
const MAX_SPLIT_GAP = 0.5;
// Largest difference (nats) between our top-2 gaps and llama.cpp's while the tokens agree. Measured:
// F16 0.004 (llama.cpp rounds activations to f16 for F16 matrices); Q8_0 0.06, Q4_0 0.08, Q4_K 0.14
// (it rounds activations to 8 bits for quantized matrices).
const MAX_DRIFT = { f16: 0.02, q8_0: 0.3, q4_0: 0.3, q4_k: 0.3 } as Record<string, number>;

interface Step {
  id: number;
  second: number;
  gap: number; // top-1 minus top-2 log-probability (nats)
}

/** Held-out prompts (eval/*.json of the demo model): few-shot ones, and a chat turn. */
async function prompts(): Promise<{ name: string; text: string; chat?: { role: 'system' | 'user'; content: string }[] }[]> {
  const evalFile = async (name: string) => (await (await fetch(`/models/gpt-chat-demo/eval/${name}.json`)).json()) as Record<string, any>;
  const sentiment = await evalFile('sentiment');
  const choice = await evalFile('multiple-choice');
  const chat = await evalFile('chat');
  const turns = [{ role: 'system' as const, content: chat.system as string }, { role: 'user' as const, content: chat.items[2].user as string }];
  // the demo model's ChatML template, written out: llama.cpp parses the special tokens in it
  const chatml = turns.map((t) => `<|im_start|>${t.role}\n${t.content}<|im_end|>\n`).join('') + '<|im_start|>assistant\n';
  return [
    { name: 'sentiment', text: sentiment.items[0].prompt },
    // the examples only: the model writes the next review itself (a longer continuation)
    { name: 'sentiment-open', text: (sentiment.items[1].prompt as string).replace(/\n\nReview: [^\n]*\nSentiment:$/, '\n\nReview:') },
    { name: 'multiple-choice', text: choice.items[0].prompt },
    { name: 'chat', text: chatml, chat: turns },
  ];
}

function top2(logits: Float32Array): Step {
  let a = 0;
  let b = 1;
  if (logits[b] > logits[a]) [a, b] = [b, a];
  for (let i = 2; i < logits.length; i++) {
    if (logits[i] > logits[a]) [a, b] = [i, a];
    else if (logits[i] > logits[b]) b = i;
  }
  return { id: a, second: b, gap: logits[a] - logits[b] };
}

/** Our greedy continuation of `ids` (no sampling: the argmax of every step, with its top-2 gap). */
async function ours(lm: LanguageModel, ids: number[], n: number): Promise<Step[]> {
  lm.model.rewind(0);
  let logits = await lm.model.prefill(ids);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const s = top2(logits);
    steps.push(s);
    logits = await lm.model.decode(s.id);
  }
  return steps;
}

/** llama.cpp's greedy continuation of `text`, with its top-2 log-probabilities per step. */
async function reference(w: Wllama, text: string, n: number): Promise<{ steps: Step[]; promptTokens: number; stopped: boolean }> {
  const r = (await w.createCompletion({ prompt: text, max_tokens: n, temperature: 0, logprobs: 2 })) as unknown as {
    choices: { finish_reason: string; logprobs: { content: { id: number; top_logprobs: { id: number; logprob: number }[] }[] } }[];
    usage: { prompt_tokens: number };
  };
  const choice = r.choices[0];
  const steps = choice.logprobs.content.map((c) => {
    const [first, second] = c.top_logprobs;
    expect(c.id, 'llama.cpp at temperature 0 takes its own top token').to.equal(first.id);
    return { id: c.id, second: second.id, gap: first.logprob - second.logprob };
  });
  return { steps, promptTokens: r.usage.prompt_tokens, stopped: choice.finish_reason === 'stop' };
}

async function exists(url: string): Promise<boolean> {
  return (await fetch(url, { method: 'HEAD' })).ok;
}

describe('greedy continuations against llama.cpp (wllama, one thread) on the demo model GGUF', () => {
  for (const type of ['f16', 'q8_0', 'q4_0', 'q4_k']) {
    const exact = type === 'f16' || type === 'q8_0';
    it(`${type}: ${exact ? 'every token agrees' : 'agrees until a near-tie of llama.cpp\'s own'}`, async function () {
      if (!(await exists(GGUF(type)))) {
        console.log(`llama.cpp reference: ${GGUF(type)} was not generated (no quantizer in this checkout), skipped`);
        this.skip();
      }
      const lm = await loadLanguageModel(new URL(GGUF(type), location.href).href, { backend: 'cpu' });
      const w = new Wllama({ default: WASM }, { suppressNativeLog: true, logger: { debug() {}, log() {}, warn() {}, error: console.error } });
      try {
        await w.loadModel([await (await fetch(GGUF(type))).blob()], { n_threads: 1, n_gpu_layers: 0, n_ctx: 512 });
        for (const p of await prompts()) {
          const ids = p.chat ? lm.encode(p.chat) : lm.encode(p.text);
          const ref = await reference(w, p.text, TOKENS);
          expect(ref.promptTokens, `${type} ${p.name}: llama.cpp tokenizes the prompt to as many tokens as we do`).to.equal(ids.length);
          // when llama.cpp stopped, its last step is the end-of-generation token it stopped on
          const mine = await ours(lm, ids, ref.steps.length);
          const split = ref.steps.findIndex((s, i) => s.id !== mine[i].id);
          const agreed = split < 0 ? ref.steps.length : split;
          // how far our top-2 gaps are from llama.cpp's while the two agree
          const drift = Math.max(...ref.steps.slice(0, agreed).map((s, i) => Math.abs(s.gap - mine[i].gap)));
          expect(drift, `${type} ${p.name}: top-2 gaps within ${MAX_DRIFT[type]} nats of llama.cpp's`).to.be.at.most(MAX_DRIFT[type]);
          if (split < 0) {
            if (ref.stopped) expect(lm.eosTokenIds, `${type} ${p.name}: llama.cpp stopped on one of our end tokens`).to.include(mine[mine.length - 1].id);
            console.log(`llama.cpp reference ${type} ${p.name}: ${agreed}/${agreed} tokens agree, top-2 gaps within ${drift.toFixed(4)} nats`);
            continue;
          }
          const at = `${type} ${p.name}: ${split}/${ref.steps.length} tokens agree (gaps within ${drift.toFixed(4)}); at token ${split} llama.cpp's top-2 gap ${ref.steps[split].gap.toFixed(3)} nats, ours ${mine[split].gap.toFixed(3)}`;
          console.log(`llama.cpp reference ${at}`);
          expect(exact, `${at}: ${type} must agree on every token`).to.equal(false);
          expect(mine[split].id, `${at}: our token is llama.cpp's second choice`).to.equal(ref.steps[split].second);
          expect(ref.steps[split].gap, `${at}: a split only at a near-tie`).to.be.below(MAX_SPLIT_GAP);
        }
      } finally {
        await w.exit();
        lm.dispose();
      }
    });
  }
});
