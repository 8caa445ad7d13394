// The stand-in simulator's entry (test/twin/standin-sim.ts): called as `<node> this-file <command> <args…>`.
const [command = '?', ...args] = process.argv.slice(2);
if (command === 'curl') {
  console.error(`curl: the lab twin stand-in refuses every URL (${args.join(' ')})`);
  process.exit(7);
}
console.log(`stand-in ${command} on ${process.env.TWIN_NODE}: ${args.join(' ')}`);
