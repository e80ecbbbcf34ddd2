/**
 * Union-find over the integers 0..size-1, in typed arrays: a million rows cost a few MB, and
 * `find` is a loop (path halving), so no input, however long its chains, can overflow the stack.
 */
export class DisjointSets {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;

  constructor(count: number) {
    this.parent = new Int32Array(count);
    this.size = new Int32Array(count).fill(1);
    for (let i = 0; i < count; i++) this.parent[i] = i;
  }

  /** The representative of `item`'s set. */
  find(item: number): number {
    let current = item;
    for (let parent = this.parentOf(current); parent !== current; parent = this.parentOf(current)) {
      const grandparent = this.parentOf(parent);
      this.parent[current] = grandparent;
      current = grandparent;
    }
    return current;
  }

  union(a: number, b: number): void {
    let rootA = this.find(a);
    let rootB = this.find(b);
    if (rootA === rootB) return;
    // The smaller tree goes under the larger one, so trees stay shallow.
    if (this.sizeOf(rootA) < this.sizeOf(rootB)) [rootA, rootB] = [rootB, rootA];
    this.parent[rootB] = rootA;
    this.size[rootA] = this.sizeOf(rootA) + this.sizeOf(rootB);
  }

  private parentOf(item: number): number {
    return this.parent[item] ?? item;
  }

  private sizeOf(root: number): number {
    return this.size[root] ?? 1;
  }
}
