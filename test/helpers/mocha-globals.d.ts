// The globals @web/test-runner's mocha gives browser tests (*.browser.test.ts).
declare function describe(name: string, body: () => void): void;
/** `this.skip()` marks the test skipped (mocha), for data a checkout may lack; `this.timeout(ms)` sets its time limit. */
declare function it(name: string, body: (this: { skip(): never; timeout(ms: number): void }) => Promise<void> | void): void;
declare function before(body: () => Promise<void> | void): void;
declare function after(body: () => Promise<void> | void): void;
declare function beforeEach(body: () => Promise<void> | void): void;
declare function afterEach(body: () => Promise<void> | void): void;
