"""Drives a Jupyter kernel with the real jupyter_client, one JSON command per stdin line.

argv: kernel_name cwd. Commands: {"code": "..."} -> the cell's stream text, reply status,
every iopub message of the cell, and "others": the stream text of iopub messages that belong
to no cell of ours (start-up, background) seen meanwhile; {"shutdown": true} -> shuts the
kernel down and reports whether it lives.
"""
import json
import os
import sys

from jupyter_client.manager import KernelManager


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    name, cwd = sys.argv[1], sys.argv[2]
    km = KernelManager(kernel_name=name)
    km.start_kernel(cwd=cwd, env=dict(os.environ))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=90)
    provisioner = km.provisioner
    pid = getattr(provisioner, "pid", None) or provisioner.process.pid
    send({"ready": True, "pid": pid})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("shutdown"):
            km.shutdown_kernel(now=False)
            kc.stop_channels()
            send({"shutdown": True, "alive": km.is_alive()})
            return
        msg_id = kc.execute(cmd["code"])
        out = {"stdout": "", "stderr": "", "status": None, "messages": [], "others": ""}
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                if msg["msg_type"] == "stream":
                    out["others"] += msg["content"]["text"]
                continue
            kind, content = msg["msg_type"], msg["content"]
            out["messages"].append({"type": kind, "content": content})
            if kind == "stream":
                out[content["name"]] += content["text"]
            if kind == "status" and content["execution_state"] == "idle":
                break
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                out["status"] = reply["content"]["status"]
                break
        send(out)


if __name__ == "__main__":
    main()
