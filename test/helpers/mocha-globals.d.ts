// The globals @web/test-runner's mocha gives browser tests (*.browser.test.ts).
declare function describe(name: string, body: () => void): void;
declare function it(name: string, body: () => Promise<void> | void): void;
declare function before(body: () => Promise<void> | void): void;
declare function after(body: () => Promise<void> | void): void;
declare function beforeEach(body: () => Promise<void> | void): void;
declare function afterEach(body: () => Promise<void> | void): void;
