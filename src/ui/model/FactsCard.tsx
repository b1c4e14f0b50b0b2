// Facts of the loaded model: architecture, sizes, tokenizer and template, memory for inference and for a
// training run with the current form, and what the device can hold.
import { useStudio } from '../../state/store';
import { Card, Empty, Stat } from '../common';
import { bytes, count } from '../format';
import { estimateTraining } from '../train/estimate';

export function FactsCard() {
  const f = useStudio((s) => s.modelFacts);
  const form = useStudio((s) => s.trainForm);
  const device = useStudio((s) => s.device);
  if (!f) {
    return (
      <Card title="Model facts">
        <Empty>
          No model loaded yet. Pick one on the left; its size, context and memory needs appear here.
        </Empty>
      </Card>
    );
  }
  const est = estimateTraining(f, form, { rows: 100, meanTokens: Math.min(256, form.maxLen), device });
  return (
    <Card title="Model facts" className="facts">
      <div className="facts-title">
        <span className="mono" data-testid="model-label">
          {f.label}
        </span>
        <span className="badge subtle">{f.modelType}</span>
        {f.cache && f.cache.downloaded === 0 && f.cache.cached > 0 && (
          <span className="badge subtle">from browser cache</span>
        )}
      </div>
      {f.kind === 'embedded' && (
        <p className="small" data-testid="embedded-about">
          This embedded model is a small Qwen3 (2 layers, hidden size 128, a 2,048-token byte-level BPE)
          pretrained with PyTorch on WordNet 3.0 from Princeton University: its definitions, examples,
          synonyms and “is a kind of” links, as plain text and as questions such as “What does ‘dog’ mean?”.
          It answers in English and is sometimes right. Load the example dataset on the Data tab to teach it a
          new answer format, then compare base and tuned replies on words it was not tuned on.
        </p>
      )}
      <div className="stats">
        <Stat label="Parameters" value={count(f.params)} />
        <Stat label="Layers" value={f.layers} />
        <Stat label="Hidden size" value={f.hidden} />
        <Stat label="Heads (KV)" value={`${f.heads} (${f.kvHeads})`} title={`head dim ${f.headDim}`} />
        <Stat label="Vocabulary" value={count(f.vocab)} />
        <Stat label="Context" value={count(f.context)} />
        <Stat
          label="Weights in memory"
          value={bytes(f.weightBytes)}
          title="float32, as the engine computes"
        />
        <Stat label="Stored as" value={f.storedDtype ?? 'unknown'} />
        <Stat label="Embeddings" value={f.tiedEmbeddings ? 'tied' : 'separate LM head'} />
        <Stat label="Tokenizer" value={f.hasTokenizer ? 'yes' : 'missing'} />
        <Stat label="Chat template" value={f.chatTemplate ? 'yes' : 'none (rows are concatenated)'} />
        <Stat label="Stop tokens" value={f.eosIds.join(', ') || '–'} />
      </div>
      <h3>Training memory (current Train settings, ~256-token rows)</h3>
      <div className="stats">
        <Stat label="Base weights" value={bytes(est.weights)} />
        <Stat
          label="LoRA + AdamW"
          value={bytes(est.loraState)}
          title={`${count(est.loraParams)} trainable parameters`}
        />
        <Stat label="Activations" value={bytes(est.activations)} />
        <Stat label="Logits (chunked)" value={bytes(est.logits)} />
        <Stat label="Total" value={bytes(est.total)} />
      </div>
      {est.problems.map((p) => (
        <div key={p} className="warn-box">
          {p}
        </div>
      ))}
    </Card>
  );
}
