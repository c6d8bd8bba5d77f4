"""An SMTP sink for benchmarks: accepts every message over real SMTP and keeps only a count.

    .venv/bin/python benchmarks/smtp_sink.py --port 2525

Prints "ready" once it listens; on SIGTERM prints `{"messages": N, "bytes": B}` and exits. It reads the
DATA section in blocks, not line by line as aiosmtpd does (the tests' server, whose per-line work made it
the slowest part of a send run here): a benchmark of our sending should not measure a slow receiver. It
speaks just what Django's SMTP backend says: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
"""

import argparse
import asyncio
import json
import signal

STATS = {"messages": 0, "bytes": 0}
END = b"\r\n.\r\n"


class Session(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data):
        self.buffer += data
        while self.buffer:
            if self.in_data:
                end = self.buffer.find(END)
                if end < 0:
                    keep = len(END) - 1  # the terminator may be split across reads
                    STATS["bytes"] += max(len(self.buffer) - keep, 0)
                    self.buffer = self.buffer[-keep:]
                    return
                STATS["bytes"] += end
                STATS["messages"] += 1
                self.buffer = self.buffer[end + len(END) :]
                self.in_data = False
                self.transport.write(b"250 OK: kept as a count\r\n")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.transport.write(b"250 sink\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer  # so an empty message's "." is found too
                self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"221 Bye\r\n")
                self.transport.close()
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.transport.write(b"250 OK\r\n")


async def serve(host, port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Session, host, port)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print("ready", flush=True)
    async with server:
        await stop
    print(json.dumps(STATS), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))
