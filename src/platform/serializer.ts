/**
 * Runs work for one key after the previous work for that key has settled, in this process. Requests
 * about one address then queue here, in memory, instead of each holding a database connection while
 * waiting on that address's row or advisory locks: a flood about one address cannot take every
 * connection of the pool from everyone else. (Across nodes the database locks still serialise.)
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running: none once all has settled (the map never grows unbounded). */
  get size(): number {
    return this.tails.size;
  }
}
