"""An SMTP server for the email gateway's tests, built on aiosmtpd.

It listens on a free 127.0.0.1 port, prints "READY <port>" once it accepts
connections, writes each message it accepts as a JSON file in --dir, and exits
when its standard input closes, so that it never outlives the test.
"""

import argparse
import asyncio
import base64
import json
import os
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.dir = args.dir
        self.refuse = args.refuse
        self.refuse_code = args.refuse_code
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse != 0:
            if self.refuse > 0:
                self.refuse -= 1
            if self.refuse_code.startswith("4"):
                return self.refuse_code + " 4.3.0 not now, try again later"
            return self.refuse_code + " 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "login": session.auth_data,
            "helo": session.host_name,
        }
        name = os.path.join(self.dir, "%06d.json" % self.count)
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.replace(name + ".tmp", name)
        return "250 OK queued"


def authenticator_for(credentials):
    user, _, password = credentials.partition(":")

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    return authenticate


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--starttls", action="store_true", help="offer STARTTLS")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", help="user:password; AUTH is then required")
    p.add_argument("--refuse", type=int, default=0, help="refuse this many RCPT (-1: all)")
    p.add_argument("--refuse-code", default="451")
    args = p.parse_args()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler = Handler(args)
    options = dict(hostname="smtp.test", ident="flapjack-test-smtpd", auth_require_tls=False)
    if args.starttls:
        options.update(tls_context=context, require_starttls=args.require_starttls)
    if args.auth:
        options.update(authenticator=authenticator_for(args.auth), auth_required=True)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **options), sock=sock, ssl=context if args.implicit_tls else None
    )
    print("READY", sock.getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
