// Runs as the unprivileged test user: carries out one request against the built
// @nsbox/core and reports on stdout as JSON.
import { probe, run, spawn } from '../../packages/core/dist/index.js'

const request = JSON.parse(process.argv[2] ?? '{}')

function errorReport(error) {
  return {
    error: { name: error.name, code: error.code, message: error.message, option: error.option },
  }
}

if (request.mode === 'probe') {
  process.stdout.write(JSON.stringify(await probe()))
} else if (request.mode === 'run') {
  const report = await run(request.file, request.args, request.options).catch(errorReport)
  process.stdout.write(JSON.stringify(report))
} else if (request.mode === 'concurrent') {
  const reports = await Promise.all(
    request.runs.map((one) => run(one.file, one.args, one.options).catch(errorReport)),
  )
  process.stdout.write(JSON.stringify(reports))
} else if (request.mode === 'many') {
  // `count` sandboxes through `concurrency` lanes; reports failures, never results.
  let started = 0
  const failures = []
  const lane = async () => {
    while (started < request.count) {
      started += 1
      const result = await run(request.file, request.args, request.options).catch(errorReport)
      if ('error' in result || result.exitCode !== 0) failures.push(JSON.stringify(result))
    }
  }
  await Promise.all(Array.from({ length: request.concurrency }, lane))
  process.stdout.write(JSON.stringify({ results: started, failures, pid: process.pid }))
} else if (request.mode === 'ipc') {
  // Round-trips a value that only the 'advanced' serialization can carry.
  const echo = 'process.on("message", (m) => { process.send(m); process.disconnect() })'
  const sandbox = spawn(process.execPath, ['-e', echo], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  const reply = new Promise((resolve) => sandbox.on('message', resolve))
  sandbox.send(new Map([['answer', 42n]]))
  const message = await reply
  const result = await sandbox.result
  process.stdout.write(
    JSON.stringify({
      isMap: message instanceof Map,
      answer: String(message.get('answer')),
      exitCode: result.exitCode,
    }),
  )
} else if (request.mode === 'hold') {
  // Start a sandbox, say so once its command printed "ready", then wait to be killed.
  const sandbox = spawn(request.file, request.args, {
    ...request.options,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ready = new Promise((resolve) => {
    sandbox.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve())
  })
  if (request.killAfterReady) {
    await ready
    sandbox.kill(request.killAfterReady)
    process.stdout.write(JSON.stringify(await sandbox.result))
  } else {
    await ready
    process.stdout.write(`ready ${sandbox.pid}\n`)
    setInterval(() => {}, 60_000)
  }
} else {
  throw new Error(`unknown mode ${request.mode}`)
}
