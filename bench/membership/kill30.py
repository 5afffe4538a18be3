#!/usr/bin/env python3
"""Issue #12, part 5: N `sgossip node` processes on loopback, each started with only --bootstrap of the first; a share
of them killed with SIGKILL at once; then messages from survivors. Prints when every survivor had each message.

    dotnet build -c Release src/SecureGossip.Cli
    python3 bench/membership/kill30.py [--nodes 30] [--kill 0.3] [--messages 10] [--seed 1]
"""
import argparse, json, os, random, signal, subprocess, sys, threading, time

parser = argparse.ArgumentParser()
parser.add_argument("--nodes", type=int, default=30)
parser.add_argument("--kill", type=float, default=0.3)
parser.add_argument("--messages", type=int, default=10)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--base-port", type=int, default=7300)
args = parser.parse_args()
rng = random.Random(args.seed)
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
dll = os.path.join(root, "src", "SecureGossip.Cli", "bin", "Release", "net10.0", "sgossip.dll")

class Node:
    def __init__(self, index, bootstrap):
        self.index, self.port = index, args.base_port + index
        argv = ["dotnet", dll, "node", "--listen", f"127.0.0.1:{self.port}", "--bootstrap"] + ([bootstrap] if bootstrap else [])
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.got, self.ups, self.downs, self.lock = {}, 0, 0, threading.Lock()
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _out(self):
        for line in self.proc.stdout:
            try:
                n = json.loads(line)["data"]["n"]
            except Exception:
                continue
            with self.lock:
                self.got.setdefault(n, time.monotonic())

    def _err(self):
        for line in self.proc.stderr:
            if "Neighbour up" in line: self.ups += 1
            if "Neighbour down" in line: self.downs += 1

    def publish(self, n):
        self.proc.stdin.write(json.dumps({"n": n}) + "\n"); self.proc.stdin.flush()

def wait_all(nodes, n, sent_at, timeout=60):
    while time.monotonic() - sent_at < timeout:
        if all(n in x.got for x in nodes): return max(x.got[n] for x in nodes) - sent_at
        time.sleep(0.01)
    missing = [x.index for x in nodes if n not in x.got]
    return f"missing at {missing}"

nodes = [Node(0, None)]
time.sleep(1.5)
for i in range(1, args.nodes):
    nodes.append(Node(i, f"127.0.0.1:{args.base_port}"))
    time.sleep(0.15)
started = time.monotonic()
while time.monotonic() - started < 30 and not all(x.ups > 0 for x in nodes[1:]): time.sleep(0.05)
time.sleep(3)
report = {"nodes": args.nodes, "kill": args.kill, "seed": args.seed}
t = time.monotonic(); nodes[-1].publish(0); report["before_ms"] = round(1000 * wait_all([x for x in nodes if x is not nodes[-1]], 0, t))
victims = rng.sample(nodes[1:], int(args.kill * args.nodes))
for v in victims: v.proc.send_signal(signal.SIGKILL)
killed_at = time.monotonic()
survivors = [x for x in nodes if x not in victims]
results = []
for m in range(1, args.messages + 1):
    publisher = rng.choice(survivors)
    t = time.monotonic(); publisher.publish(m)
    took = wait_all([x for x in survivors if x is not publisher], m, t)
    results.append(took if isinstance(took, str) else round(1000 * took))
    if m == 1:
        report["first_after_kill_reached_all_ms_after_kill"] = round(1000 * (time.monotonic() - killed_at)) if not isinstance(took, str) else took
    time.sleep(0.2)
report["killed"] = sorted(v.index for v in victims)
report["message_ms"] = results
report["every_survivor_got_every_message"] = all(not isinstance(r, str) for r in results)
report["neighbours_down_seen"] = sum(x.downs for x in survivors)
print(json.dumps(report))
for x in nodes:
    if x.proc.poll() is None: x.proc.send_signal(signal.SIGTERM)
for x in nodes:
    try: x.proc.wait(10)
    except subprocess.TimeoutExpired: x.proc.kill()
sys.exit(0 if report["every_survivor_got_every_message"] else 1)
