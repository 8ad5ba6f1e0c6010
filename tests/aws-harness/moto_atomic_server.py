#!/usr/bin/env python3
"""moto_server, but DynamoDB requests are applied one at a time.

Stock moto_server serves requests on threads and its DynamoDB backend takes no lock, so concurrent
conditional writes, UpdateItem ADD and TransactWriteItems race inside moto (lost increments, two
winners of one conditional put, a failed transaction rolling back other requests' writes). Real
DynamoDB applies each of these atomically; serializing DynamoDB requests restores that. Other
services (SQS long polling included) stay concurrent.

Usage: moto_atomic_server.py -H 127.0.0.1 -p PORT   (same flags as moto_server)
"""
import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()


def serialize_dynamodb(app):
    def wrapped(environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with _dynamodb:
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialize_dynamodb(app), threaded=True)


if __name__ == "__main__":
    main()
