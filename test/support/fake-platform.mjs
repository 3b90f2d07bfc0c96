// Preloaded (NODE_OPTIONS=--import) into every Node.js process of a fixture run: nsbox's
// own code (and only it: Jest and Vitest load native bindings by platform) reads
// NSBOX_TEST_PLATFORM, such as darwin, as process.platform. The unsupported-platform
// path, tested on Linux.
const real = process.platform
const fake = process.env.NSBOX_TEST_PLATFORM
const nsboxCode = /[\\/](packages[\\/]core|@nsbox[\\/]core)[\\/]dist[\\/]/
Object.defineProperty(process, 'platform', {
  get: () => (nsboxCode.test(new Error().stack ?? '') ? fake : real),
})
