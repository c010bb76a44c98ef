/**
 * A bounded ring of pending log lines. When full, pushing drops the OLDEST line (newer records are
 * worth more to an operator than older ones) and counts it; nothing here ever blocks the caller.
 */
export class LogBuffer {
  private readonly items: (string | undefined)[];
  private head = 0;
  private size = 0;
  /** Lines dropped because the buffer was full, since creation. */
  overflowed = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<string | undefined>(Math.max(1, capacity));
  }

  get length(): number {
    return this.size;
  }

  /** Adds a line; returns false when an older line had to be dropped for it. */
  push(line: string): boolean {
    const cap = this.items.length;
    if (this.size === cap) {
      this.items[this.head] = line;
      this.head = (this.head + 1) % cap;
      this.overflowed++;
      return false;
    }
    this.items[(this.head + this.size) % cap] = line;
    this.size++;
    return true;
  }

  /** Removes and returns up to `max` oldest lines. */
  take(max = Infinity): string[] {
    const n = Math.min(max, this.size);
    const out = new Array<string>(n);
    const cap = this.items.length;
    for (let i = 0; i < n; i++) {
      out[i] = this.items[this.head]!;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % cap;
    }
    this.size -= n;
    return out;
  }
}
