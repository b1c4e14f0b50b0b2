// The Data tab's instruction-data tools (DESIGN §9), each in its own collapsible section: near duplicates,
// IFD selection, size and diversity, rows from templates, Self-Instruct generation.
import type { DatasetRecord } from '../../storage/db';
import { Card } from '../common';
import { DedupePanel } from './DedupePanel';
import { DiversityPanel } from './DiversityPanel';
import { IfdPanel } from './IfdPanel';
import { SelfInstructPanel } from './SelfInstructPanel';
import { TemplateBuilder } from './TemplateBuilder';

const SECTIONS = [
  ['Near duplicates', DedupePanel],
  ['IFD selection', IfdPanel],
  ['Size and diversity', DiversityPanel],
  ['Rows from a template', TemplateBuilder],
  ['Self-Instruct', SelfInstructPanel],
] as const;

export function DataTools(props: { ds: DatasetRecord }) {
  return (
    <Card title="Data tools">
      {SECTIONS.map(([title, Panel]) => (
        <details key={title} className="tool-section">
          <summary>{title}</summary>
          <Panel ds={props.ds} />
        </details>
      ))}
    </Card>
  );
}
