// Runs as the unprivileged test user: carries out one request against the built
// @nsbox/core and reports on stdout as JSON.
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { closeSpares, probe, run, spawn } from '../../packages/core/dist/index.js'

const request = JSON.parse(process.argv[2] ?? '{}')

// This process's children that are sandbox launchers: the running ones and the spares.
function launchers() {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
  return children
    .split(' ')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'unshare'
      } catch {
        return false
      }
    })
}

async function waitFor(read, isDone, withinMs) {
  const deadline = Date.now() + withinMs
  let value = read()
  while (!isDone(value) && Date.now() < deadline) {
    await sleep(10)
    value = read()
  }
  return value
}

// The sandbox cgroup directories (`nsbox-<pid namespace>-<pid>-<start time>-<n>`, not the
// `nsbox-host` leaf of a delegated cgroup v2 subtree) the init under launcher `pid` has entered.
function sandboxCgroupDirs(pid) {
  try {
    const init = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]
    return readFileSync(`/proc/${init}/cgroup`, 'utf8')
      .split('\n')
      .filter((line) => /\/nsbox-\d+-\d+-\d+-\d+\/command$/.test(line))
      .map((line) => {
        // The init lives in the sandbox cgroup's `command` child; the limits sit one up.
        const [, controllers, cgroupPath] = line.split(':')
        const dir = path.dirname(cgroupPath)
        return path.join('/sys/fs/cgroup', controllers.replace(/^name=/, ''), dir)
      })
  } catch {
    return []
  }
}

// KEYCTL_READ of the session keyring (the ids of its keys), then KEYCTL_DESCRIBE of each:
// one "type;uid;gid;perm;description" line per key.
const LIST_SESSION_KEYS = `
my ($keyctl) = @ARGV;
my $list = "\\0" x 4096;
my $size = syscall($keyctl, 11, -3, $list, length $list);
die "keyctl(KEYCTL_READ): $!\\n" if $size < 0;
for my $id (unpack('l*', substr($list, 0, $size))) {
  my $description = "\\0" x 4096;
  my $length = syscall($keyctl, 6, $id, $description, length $description);
  print substr($description, 0, $length - 1), "\\n" if $length > 0;
}
`

// The one line on stdin that a helper waits to be told; stdin is closed after it.
function nextLine() {
  return new Promise((resolve) => {
    let text = ''
    const onData = (chunk) => {
      text += chunk
      const newline = text.indexOf('\n')
      if (newline === -1) return
      process.stdin.off('data', onData)
      process.stdin.destroy()
      resolve(text.slice(0, newline))
    }
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', onData)
  })
}

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
  // Round-trips a value that only the 'advanced' serialization can carry; then the
  // child, or this process, closes the channel, which ends the child.
  const echo =
    request.disconnectFrom === 'parent'
      ? 'process.on("message", (m) => process.send(m))'
      : 'process.on("message", (m) => { process.send(m); process.disconnect() })'
  const sandbox = spawn(process.execPath, ['-e', echo], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  const reply = new Promise((resolve) => sandbox.on('message', resolve))
  sandbox.send(new Map([['answer', 42n]]))
  const message = await reply
  if (request.disconnectFrom === 'parent') sandbox.disconnect()
  const result = await sandbox.result
  process.stdout.write(
    JSON.stringify({
      isMap: message instanceof Map,
      answer: String(message.get('answer')),
      exitCode: result.exitCode,
    }),
  )
} else if (request.mode === 'spares') {
  // A first sandbox, the spare launcher it leaves, then a second sandbox of the same kind
  // whose working directory under /tmp was made after the spare started.
  const first = await run('true', [], request.firstOptions).catch(errorReport)
  const spares = await waitFor(launchers, (pids) => pids.length > 0, 2000)
  const spareCgroups = await waitFor(
    () => spares.flatMap(sandboxCgroupDirs),
    (dirs) => dirs.length > 0 || !request.firstOptions?.memory,
    2000,
  )
  const report = { pid: process.pid, first, spares, spareCgroups }
  if (request.after === 'exit') {
    process.stdout.write(JSON.stringify(report))
  } else if (request.after === 'idle') {
    report.launchersLeft = await waitFor(launchers, (pids) => pids.length === 0, 10_000)
    // Removed once the launcher has ended, a moment after its process is gone.
    report.cgroupsLeft = await waitFor(
      () => spareCgroups.filter((dir) => existsSync(dir)),
      (dirs) => dirs.length === 0,
      5000,
    )
    process.stdout.write(JSON.stringify(report))
  } else {
    const dir = mkdtempSync(path.join(request.tmpParent, 'nsbox-spare-'))
    writeFileSync(path.join(dir, 'note'), 'made after the spare started\n')
    const second = spawn(request.second.file, request.second.args, {
      ...request.secondOptions,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    second.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    // Its launcher starts in a later turn of the event loop: the pid is known from then on.
    report.secondLauncher = await new Promise((resolve) =>
      second.once('spawn', () => resolve(second.pid)),
    )
    report.second = await second.result.catch(errorReport)
    report.second.stdout = stdout
    rmSync(dir, { recursive: true, force: true })
    await closeSpares()
    report.launchersLeft = launchers()
    report.cgroupsLeft = spareCgroups.filter((dir) => existsSync(dir))
    // nsbox listens for SIGTERM only while it has a cgroup to remove (and a moment after).
    report.sigtermListeners = await waitFor(
      () => process.listenerCount('SIGTERM'),
      (count) => count === 0,
      3000,
    )
    process.stdout.write(JSON.stringify(report))
  }
} else if (request.mode === 'hold') {
  // Start a sandbox, say so once its command printed "ready", then wait to be killed; or
  // kill it at once, or once it is ready, and report its result.
  const sandbox = spawn(request.file, request.args, {
    ...request.options,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ready = new Promise((resolve) => {
    sandbox.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve())
  })
  if (request.killAtOnce) {
    sandbox.kill(request.killAtOnce)
    process.stdout.write(JSON.stringify(await sandbox.result))
  } else if (request.killAfterReady) {
    await ready
    sandbox.kill(request.killAfterReady)
    process.stdout.write(JSON.stringify(await sandbox.result))
  } else {
    await ready
    const spares = await waitFor(
      () => launchers().filter((pid) => pid !== sandbox.pid),
      (pids) => pids.length > 0,
      2000,
    )
    process.stdout.write(`ready ${sandbox.pid} ${spares.join(',')}\n`)
    setInterval(() => {}, 60_000)
  }
} else if (request.mode === 'races') {
  // Kills (kill('SIGKILL')) and timeouts 0 to `maxDelayMs` ms into the start of sandboxes
  // of an endless command and of one that exits at once; reports every result that did not
  // settle within 5 s or that says something untrue.
  const kinds = ['kill endless', 'timeout endless', 'kill quick', 'timeout quick']
  const report = { launches: 0, unsettled: [], untruthful: [] }
  const openFds = () => readdirSync('/proc/self/fd').length
  await run('true').then(closeSpares) // Node.js opens a few descriptors for good at its first child
  const fdsBefore = openFds()
  for (let index = 0; index < request.count; index++) {
    const kind = kinds[index % kinds.length]
    const delayMs = Math.floor(index / kinds.length) % (request.maxDelayMs + 1)
    const script = kind.endsWith('endless') ? 'sleep 1000; true' : 'true'
    const options = {
      ...request.options,
      ...(kind.startsWith('timeout') ? { timeout: delayMs + 1 } : {}),
    }
    const sandbox = spawn('sh', ['-c', script, request.marker], { ...options, stdio: 'ignore' })
    const settled = sandbox.result.catch(errorReport)
    if (kind.startsWith('kill')) {
      await sleep(delayMs)
      sandbox.kill('SIGKILL')
    }
    const result = await Promise.race([settled, sleep(5000).then(() => null)])
    report.launches += 1
    const label = `${kind} at ${delayMs} ms`
    if (result === null) {
      // Until its result settles a sandbox has not ended, and kill() says so.
      report.unsettled.push(`${label}, then kill() returned ${sandbox.kill('SIGKILL')}`)
      continue
    }
    const killedBy = kind.startsWith('timeout') ? 'timeout' : null
    const wasKilled = result.signal === 'SIGKILL' && result.killedBy === killedBy
    const hasExited = result.exitCode === 0 && result.killedBy === null
    const isTrue = kind.endsWith('endless') ? wasKilled : wasKilled || hasExited
    if (!isTrue) report.untruthful.push(`${label}: ${JSON.stringify(result)}`)
  }
  if (request.leftovers) {
    await closeSpares()
    report.leftovers = { launchers: launchers(), fdsBefore, fdsAfter: openFds(), pid: process.pid }
  }
  // Exits even with sandboxes left running, which the test then looks for.
  process.stdout.write(JSON.stringify(report), () => process.exit(0))
} else if (request.mode === 'out-of-files') {
  // Lowers this process's own open-file limit, then starts `count` sandboxes at once.
  // Node.js opens a few descriptors for good at its first child process: one sandbox first.
  await run('true').then(closeSpares)
  const openFds = () => readdirSync('/proc/self/fd').length
  const fdsBefore = openFds()
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${request.openFiles}`])
  const reports = await Promise.all(
    Array.from({ length: request.count }, () =>
      run(request.file, request.args, request.options).catch(errorReport),
    ),
  )
  await closeSpares()
  process.stdout.write(
    JSON.stringify({ pid: process.pid, reports, fdsBefore, fdsAfter: openFds() }),
  )
} else if (request.mode === 'out-of-processes') {
  // Moves this process into a pids cgroup of its own under `pidsParent` (a subtree the
  // test user owns) whose pids.max is what it already uses plus `headroom`, then starts
  // a sandbox.
  await readFile('/proc/self/stat') // Node.js's thread pool starts now, not under the cap
  const dir = path.join(request.pidsParent, `exhausted-${process.pid}`)
  mkdirSync(dir)
  writeFileSync(`${dir}/cgroup.procs`, String(process.pid))
  const used = Number(readFileSync(`${dir}/pids.current`, 'utf8'))
  writeFileSync(`${dir}/pids.max`, String(used + request.headroom))
  const report = await run(request.file, request.args, request.options).catch(errorReport)
  writeFileSync(`${request.pidsParent}/cgroup.procs`, String(process.pid))
  rmdirSync(dir)
  process.stdout.write(JSON.stringify({ report, cgroup: dir }))
} else if (request.mode === 'killed-from-outside') {
  // Once the command printed "ready", SIGKILL to the launcher (`unshare`) or to the init
  // under it, as something other than nsbox would send; then the sandbox's result.
  const sandbox = spawn(request.file, request.args, { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve) => {
    sandbox.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve())
  })
  const launcher = sandbox.pid
  const init = Number(
    readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(' ')[0],
  )
  process.kill(request.target === 'init' ? init : launcher, 'SIGKILL')
  process.stdout.write(JSON.stringify(await sandbox.result.catch(errorReport)))
} else if (request.mode === 'hold-until-told') {
  // Starts a sandbox and, once its command printed "ready" and its init is in its cgroup,
  // prints the cgroup directories; ends it when a line arrives on stdin, and reports
  // whether it had ended before that.
  const sandbox = spawn(request.file, request.args, {
    ...request.options,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let hasEnded = false
  const settled = sandbox.result.catch(errorReport).finally(() => {
    hasEnded = true
  })
  await new Promise((resolve) => {
    sandbox.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve())
  })
  const cgroups = await waitFor(
    () => sandboxCgroupDirs(sandbox.pid),
    (dirs) => dirs.length > 0,
    2000,
  )
  process.stdout.write(`${JSON.stringify({ cgroups })}\n`)
  await nextLine()
  const endedEarly = hasEnded
  sandbox.kill('SIGKILL')
  process.stdout.write(`${JSON.stringify({ endedEarly, result: await settled })}\n`)
} else if (request.mode === 'reap-later') {
  // A long-lived caller: one sandbox, then, once told which cgroup directories a crashed
  // sibling left, more sandboxes one after another until those are gone (at most 10 s).
  await run('true', [], request.options)
  process.stdout.write('"ready"\n')
  const dirs = JSON.parse(await nextLine())
  const deadline = Date.now() + 10_000
  let launches = 0
  while (dirs.some((dir) => existsSync(dir)) && Date.now() < deadline) {
    await run('true', [], request.options)
    launches += 1
    await sleep(50)
  }
  const left = dirs.filter((dir) => existsSync(dir))
  process.stdout.write(`${JSON.stringify({ launches, left })}\n`)
} else if (request.mode === 'owner-changed') {
  // Lives in a memory cgroup of its own under `memoryParent`, so that its sandboxes'
  // cgroups go there; once told (after root took that directory over), ends its sandbox,
  // starts another, and reports both with the warnings it got.
  const own = path.join(request.memoryParent, `owner-${process.pid}`)
  mkdirSync(own)
  writeFileSync(`${own}/cgroup.procs`, String(process.pid))
  const warnings = []
  process.on('warning', (warning) =>
    warnings.push({ code: warning.code, message: warning.message }),
  )
  const sandbox = spawn('sleep', ['300'], { memory: '64M', stdio: 'ignore' })
  const cgroups = await waitFor(
    () => sandboxCgroupDirs(sandbox.pid),
    (dirs) => dirs.length > 0,
    2000,
  )
  process.stdout.write(`${JSON.stringify({ own, cgroups })}\n`)
  await nextLine()
  const killedAt = performance.now()
  sandbox.kill('SIGKILL')
  const result = await sandbox.result.catch(errorReport)
  const settleMs = performance.now() - killedAt
  const next = await run('true', [], { memory: '64M' }).catch(errorReport)
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
  process.stdout.write(`${JSON.stringify({ result, settleMs, next, warnings })}\n`)
} else if (request.mode === 'timeout-burst') {
  // `count` sandboxes of an endless command started at once with a timeout of `timeoutMs`:
  // how late each result settled, and the longest turn of the event loop meanwhile.
  let longestTurnMs = 0
  let isWatching = true
  const watching = (async () => {
    while (isWatching) {
      const started = performance.now()
      await new Promise((resolve) => setImmediate(resolve))
      longestTurnMs = Math.max(longestTurnMs, performance.now() - started)
    }
  })()
  const sandboxes = Array.from({ length: request.count }, () =>
    spawn('sleep', ['10'], { stdio: 'ignore', timeout: request.timeoutMs }),
  )
  const results = await Promise.all(sandboxes.map((sandbox) => sandbox.result.catch(errorReport)))
  isWatching = false
  await watching
  process.stdout.write(
    JSON.stringify({
      killedBy: [...new Set(results.map((result) => result.killedBy ?? result.error?.code))],
      latestMs: Math.max(...results.map((result) => result.duration - request.timeoutMs)),
      longestTurnMs,
    }),
  )
} else if (request.mode === 'process-shape') {
  // What a ChildProcess-style caller sees: the arguments of 'exit', and send() without IPC.
  const sandbox = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' })
  const exitArgs = new Promise((resolve) => sandbox.once('exit', (...args) => resolve(args)))
  let sendError = null
  try {
    sandbox.send('hello')
  } catch (error) {
    sendError = errorReport(error).error
  }
  process.stdout.write(JSON.stringify({ exitArgs: await exitArgs, sendError }))
} else if (request.mode === 'run-with-warnings') {
  // `run()`, then its result with the warnings this process got meanwhile.
  const warnings = []
  process.on('warning', (warning) =>
    warnings.push({ code: warning.code, message: warning.message }),
  )
  const report = await run(request.file, request.args, request.options).catch(errorReport)
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
  process.stdout.write(JSON.stringify({ report, warnings }))
} else if (request.mode === 'soak') {
  // `count` sandboxes through `concurrency` lanes, each of the next of `variants` in turn
  // (a command, its options, and the ending it must have); then what is left of them in
  // this process: launchers, descriptors, and the spares' cgroups once closed.
  const openFds = () => readdirSync('/proc/self/fd').length
  await run('true').then(closeSpares) // Node.js opens a few descriptors for good at its first child
  const fdsBefore = openFds()
  let started = 0
  const failures = []
  const lane = async () => {
    while (started < request.count) {
      const variant = request.variants[started % request.variants.length]
      started += 1
      const result = await run(variant.file, variant.args, variant.options).catch(errorReport)
      const ending = { exitCode: result.exitCode, signal: result.signal, killedBy: result.killedBy }
      if ('error' in result || JSON.stringify(ending) !== JSON.stringify(variant.expect)) {
        failures.push(JSON.stringify(result))
      }
    }
  }
  await Promise.all(Array.from({ length: request.concurrency }, lane))
  await closeSpares()
  process.stdout.write(
    JSON.stringify({
      pid: process.pid,
      launches: started,
      failures: failures.slice(0, 5),
      failureCount: failures.length,
      launchersLeft: launchers(),
      fdsBefore,
      fdsAfter: openFds(),
    }),
  )
} else if (request.mode === 'keyring') {
  // Started by a wrapper that gave this process a session keyring of its own holding one
  // key (NSBOX_TEST_KEY_ID): a sandbox, then what that keyring holds afterwards.
  const keyId = process.env.NSBOX_TEST_KEY_ID ?? ''
  const args = request.args.map((arg) => arg.replaceAll('{key id}', keyId))
  const report = await run(request.file, args, request.options).catch(errorReport)
  const listing = execFileSync('perl', ['-e', LIST_SESSION_KEYS, String(request.keyctl)], {
    encoding: 'utf8',
  })
  process.stdout.write(
    JSON.stringify({
      report,
      keyId: Number(keyId),
      sessionKeys: listing.split('\n').filter(Boolean),
    }),
  )
} else {
  throw new Error(`unknown mode ${request.mode}`)
}
