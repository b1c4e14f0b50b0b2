// The Train form, generated from TrainConfig's field list (help.ts): every field has its label, control,
// default and one-line help. Number boxes keep what is typed and parse it on commit (NumberInput); a box
// holding invalid text is listed in the store's formErrors, and resolveTrainConfig checks the rest.
import { useCallback, useId, useState } from 'react';
import { ALL_LINEAR, defaultTrainConfig, type TrainConfig } from '../../engine/train/config';
import { useStudio } from '../../state/store';
import { Field } from '../common';
import { NumberInput } from '../NumberInput';
import { fieldLabel, trainConfigHelp, trainFormGroups, type FieldSpec } from './help';
import { schedulePreview } from '../actions/data';
import { saveTrainForm } from '../actions/app';

function Control({
  spec,
  id,
  describedBy,
  disabled,
}: {
  spec: FieldSpec;
  id: string;
  describedBy?: string;
  disabled: boolean;
}) {
  const form = useStudio((s) => s.trainForm);
  const setForm = useStudio((s) => s.setTrainForm);
  const setFormError = useStudio((s) => s.setFormError);
  const onValidity = useCallback(
    (error: string | null) => setFormError(spec.label, error),
    [setFormError, spec.label],
  );
  const valSplit = useStudio((s) => s.datasets.find((d) => d.id === s.activeDatasetId)?.valSplit);
  const k = spec.key;
  const set = (patch: Partial<TrainConfig>) => {
    setForm(patch);
    saveTrainForm();
    if (k === 'maxLen' || k === 'trainOnPrompt') schedulePreview();
  };
  const c = spec.control;
  switch (c.kind) {
    case 'int':
    case 'float':
      return (
        <NumberInput
          id={id}
          describedBy={describedBy}
          disabled={disabled}
          rule={{ min: c.min, max: c.max, integer: c.kind === 'int' }}
          value={form[k] as number}
          onCommit={(v) => set({ [k]: v } as Partial<TrainConfig>)}
          onValidity={onValidity}
        />
      );
    case 'bool':
      return (
        <input
          id={id}
          aria-describedby={describedBy}
          type="checkbox"
          disabled={disabled}
          checked={form[k] as boolean}
          onChange={(e) => set({ [k]: e.target.checked } as Partial<TrainConfig>)}
        />
      );
    case 'schedule':
      return (
        <select
          id={id}
          aria-describedby={describedBy}
          disabled={disabled}
          value={form.schedule}
          onChange={(e) => set({ schedule: e.target.value as TrainConfig['schedule'] })}
        >
          <option value="constant">constant</option>
          <option value="linear">linear decay</option>
          <option value="cosine">cosine decay</option>
        </select>
      );
    case 'plan':
      return (
        <select
          id={id}
          aria-describedby={describedBy}
          disabled={disabled}
          value={form.plan}
          onChange={(e) => set({ plan: e.target.value as TrainConfig['plan'] })}
        >
          <option value="auto">auto (fastest that fits)</option>
          <option value="whole">whole model (fastest)</option>
          <option value="layerwise">layer by layer (least memory)</option>
        </select>
      );
    case 'fromData':
      return (
        <output id={id} aria-describedby={describedBy}>
          {valSplit ?? 0} (set on the Data tab)
        </output>
      );
    case 'targets': {
      const all = form.targets === 'all-linear';
      const list: readonly string[] = all ? ALL_LINEAR : (form.targets as string[]);
      const toggle = (t: string) => {
        const next = list.includes(t) ? list.filter((x) => x !== t) : [...list, t];
        set({
          targets:
            next.length === ALL_LINEAR.length ? 'all-linear' : ALL_LINEAR.filter((x) => next.includes(x)),
        });
      };
      return (
        <div
          id={id}
          role="group"
          aria-describedby={describedBy}
          aria-label="Target modules"
          className="chips"
        >
          {ALL_LINEAR.map((t) => (
            <label key={t} className={`chip${list.includes(t) ? ' on' : ''}`}>
              <input
                type="checkbox"
                disabled={disabled}
                checked={list.includes(t)}
                onChange={() => toggle(t)}
                aria-label={t}
              />
              {t}
            </label>
          ))}
        </div>
      );
    }
  }
}

/** A checkbox with its label beside it and the help below. */
function BoolField({ spec, help, disabled }: { spec: FieldSpec; help: string; disabled: boolean }) {
  const id = useId();
  return (
    <div className="field-check">
      <label htmlFor={id}>
        <Control spec={spec} id={id} describedBy={`${id}-help`} disabled={disabled} />
        {spec.label}
      </label>
      <div className="help" id={`${id}-help`}>
        {help}
      </div>
    </div>
  );
}

export function TrainForm({ disabled }: { disabled: boolean }) {
  const form = useStudio((s) => s.trainForm);
  const invalid = useStudio((s) => Object.keys(s.formErrors).length > 0);
  const resetForm = useStudio((s) => s.resetTrainForm);
  // a reset also drops text typed but not valid: the fields are drawn anew
  const [epoch, setEpoch] = useState(0);
  const reset = () => {
    resetForm();
    setEpoch((e) => e + 1);
    saveTrainForm();
  };
  const changed = (Object.keys(defaultTrainConfig) as (keyof TrainConfig)[]).filter(
    (k) => JSON.stringify(form[k]) !== JSON.stringify(defaultTrainConfig[k]),
  );
  return (
    <div className="train-form">
      {trainFormGroups.map((g) => (
        <fieldset key={`${g.title}-${epoch}`} disabled={disabled}>
          <legend>{g.title}</legend>
          <div className="form-grid">
            {g.fields.map((f) => {
              const help = `${trainConfigHelp[f.key]} Default: ${JSON.stringify(defaultTrainConfig[f.key])}.`;
              if (f.control.kind === 'bool')
                return <BoolField key={f.key} spec={f} help={help} disabled={disabled} />;
              return (
                <Field key={f.key} label={f.label} help={help} wide={f.control.kind === 'targets'}>
                  {(id, d) => <Control spec={f} id={id} describedBy={d} disabled={disabled} />}
                </Field>
              );
            })}
          </div>
        </fieldset>
      ))}
      <div className="inline">
        <button
          className="ghost small"
          disabled={disabled || (changed.length === 0 && !invalid)}
          onClick={reset}
        >
          Reset to defaults
        </button>
        {changed.length > 0 && (
          <span className="muted small">changed: {changed.map(fieldLabel).join(', ')}</span>
        )}
      </div>
    </div>
  );
}
