/**
 * The reference model of governedModel.ts (no links kept: customers are recomputed as connected
 * components whenever asked) with unmerges and separations, for the unmerge's property test.
 *
 * - A merge remembers the lowest row of the customers it joined (the survivor) and the rows it
 *   absorbed: its two sides are the survivor and the first of those still in the survivor's customer.
 * - Unmerging it: if there is none, or it was undone, nothing (not found);
 *   if without it they are still connected, nothing (still linked); otherwise it stops linking
 *   for good and a separation of the two pieces' lowest rows is recorded.
 * - A checkout whose email's customer and phone's customer are different and bound by a
 *   separation (one of its rows in each) is answered with the email's customer; the phone is
 *   ignored, stored nowhere new, joins nothing.
 * Blocking and the size cap are left out (governedModel.ts has them): the property test runs
 * checkouts, unmerges and removals of separations.
 */
import type { Customer, Identifiers } from '../../src/identity/contact.js';
import type { IdentifierField } from '../../src/identity/normalise.js';
import { modelComponents, modelCustomerOf, modelPrimaries } from './referenceModel.js';

interface ModelRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
}

interface ModelMerge extends Identifiers {
  survivor: number;
  /** The absorbed customer's lowest row, then all its rows in id order (the event's customerIds[1] and contactIds). */
  absorbed: number[];
  undone: boolean;
}

export type UnmergeAnswer = { kind: 'split'; into: [number, number] } | { kind: 'stillLinked' } | { kind: 'notFound' };

const FIELDS: readonly IdentifierField[] = ['email', 'phoneNumber'];

export class UnmergeModel {
  private readonly rows: ModelRow[] = [];
  private readonly merges: ModelMerge[] = [];
  /** Separations in creation order (their ids are 1, 2, … in the service); null once removed. */
  private readonly separations: ([number, number] | null)[] = [];

  get mergeCount(): number {
    return this.merges.length;
  }

  get separationCount(): number {
    return this.separations.length;
  }

  identify(raw: Identifiers): { customer: Customer; ignored: IdentifierField[] } {
    const components = this.components();
    const componentOf = (request: Identifiers, field: IdentifierField) =>
      request[field] === null ? undefined : components.find((members) => members.some((row) => row[field] === request[field]));
    let request = raw;
    const ignored: IdentifierField[] = [];
    const [byEmail, byPhone] = [componentOf(raw, 'email'), componentOf(raw, 'phoneNumber')];
    if (byEmail && byPhone && byEmail !== byPhone && this.bound(byEmail, byPhone)) {
      request = { email: raw.email, phoneNumber: null };
      ignored.push('phoneNumber');
    }
    const touched = [...new Set([componentOf(request, 'email'), componentOf(request, 'phoneNumber')].filter((c) => c !== undefined))];
    const members = touched.flat();
    const bringsNew = FIELDS.some((field) => request[field] !== null && !members.some((row) => row[field] === request[field]));
    if (touched.length > 1) {
      const [survivorSide, absorbedSide] = touched
        .map((component) => component.map((row) => row.id).sort((a, b) => a - b))
        .sort((a, b) => (a[0] as number) - (b[0] as number)) as [number[], number[]];
      this.merges.push({
        ...request,
        survivor: survivorSide[0] as number,
        absorbed: [absorbedSide[0] as number, ...absorbedSide],
        undone: false,
      });
    }
    if (touched.length === 0 || bringsNew) this.rows.push({ id: this.rows.length + 1, ...request });
    const id = this.rows.find((row) => row.email === (request.email ?? undefined) || row.phoneNumber === (request.phoneNumber ?? undefined))
      ?.id as number;
    return { customer: this.customerOf(id), ignored };
  }

  /** Unmerge the `index`-th merge (0-based, in the order they happened). */
  unmerge(index: number): UnmergeAnswer {
    const merge = this.merges[index];
    if (merge === undefined || merge.undone) return { kind: 'notFound' };
    const pieceOf = (components: ModelRow[][], id: number) => components.find((members) => members.some((row) => row.id === id));
    const customer = pieceOf(this.components(), merge.survivor) as ModelRow[];
    const survivor = merge.survivor;
    const absorbed = merge.absorbed.find((id) => customer.some((row) => row.id === id));
    if (absorbed === undefined) return { kind: 'notFound' };
    merge.undone = true;
    const after = this.components();
    const [a, b] = [pieceOf(after, survivor) as ModelRow[], pieceOf(after, absorbed) as ModelRow[]];
    if (a === b) {
      merge.undone = false;
      return { kind: 'stillLinked' };
    }
    const into: [number, number] = [(a[0] as ModelRow).id, (b[0] as ModelRow).id];
    this.separations.push(into);
    return { kind: 'split', into };
  }

  /** Removes the `index`-th separation (0-based); false when there is none or it was removed. */
  removeSeparation(index: number): boolean {
    if (this.separations[index] === undefined || this.separations[index] === null) return false;
    this.separations[index] = null;
    return true;
  }

  customerOf(id: number): Customer {
    return modelCustomerOf(this.components(), id);
  }

  /** Every row's primary, by row id: what the table must hold. */
  primaries(): Map<number, number> {
    return modelPrimaries(this.components());
  }

  private bound(a: readonly ModelRow[], b: readonly ModelRow[]): boolean {
    const inA = new Set(a.map((row) => row.id));
    const inB = new Set(b.map((row) => row.id));
    return this.separations.some(
      (pair) => pair !== null && ((inA.has(pair[0]) && inB.has(pair[1])) || (inA.has(pair[1]) && inB.has(pair[0]))),
    );
  }

  /** Connected components by label propagation; each in id order. */
  private components(): ModelRow[][] {
    const connected = (a: ModelRow, b: ModelRow) =>
      FIELDS.some((field) => a[field] !== null && a[field] === b[field]) ||
      this.merges.some(
        (merge) =>
          !merge.undone &&
          ((a.email === merge.email && b.phoneNumber === merge.phoneNumber) ||
            (b.email === merge.email && a.phoneNumber === merge.phoneNumber)),
      );
    return modelComponents(this.rows, connected);
  }
}
