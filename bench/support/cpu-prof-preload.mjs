// Preloaded with `NODE_OPTIONS=--import …` (Node refuses --cpu-prof in NODE_OPTIONS, and
// test/support's startTrellis takes no node flags): profiles the whole process through the
// inspector and writes `p-<pid>.cpuprofile` into $BENCH_PROF_DIR when the process exits.
import inspector from 'node:inspector';
import fs from 'node:fs';
import path from 'node:path';

const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 });
session.post('Profiler.start');
process.on('exit', () => {
  // Same-thread inspector sessions answer synchronously, so this runs before the exit completes.
  session.post('Profiler.stop', (err, res) => {
    if (err || !process.env.BENCH_PROF_DIR) return;
    const file = path.join(process.env.BENCH_PROF_DIR, `p-${process.pid}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(res.profile));
  });
});
