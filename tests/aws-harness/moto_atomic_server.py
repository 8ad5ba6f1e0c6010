#!/usr/bin/env python3
"""moto_server, but DynamoDB requests are applied one at a time.

Stock moto_server serves requests on threads and its DynamoDB backend takes no lock, so concurrent
conditional writes, UpdateItem ADD and TransactWriteItems race inside moto (lost increments, two
winners of one conditional put, a failed transaction rolling back other requests' writes). Real
DynamoDB applies each of these atomically; serializing DynamoDB requests restores that. Other
services (SQS long polling included) stay concurrent.

moto's TransactWriteItems deep-copies every table it names before applying a transaction, to roll
back on failure: each transaction costs time and garbage in proportion to the whole table (with
tens of thousands of items, seconds per transaction and gigabytes of memory). Since DynamoDB
requests are serialized here, a transaction's rollback only needs the items it names: they are
saved before it runs and put back if it fails, and the tables are no longer copied.

Usage: moto_atomic_server.py -H 127.0.0.1 -p PORT   (same flags as moto_server)
"""
import argparse
import copy
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()


class _TablesNotCopied:
    """The `copy` module as moto's DynamoDB backend sees it, except that a whole table is not
    deep-copied (its transaction's snapshot); everything else is copied as before."""

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _named_items(backend, transact_items):
    """(table, hash, range, a copy of the item or None) for every item a transaction names."""
    saved = []
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = op.get("Item", op.get("Key")) if table is not None else None
            try:
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = (
                    DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                )
            except (KeyError, TypeError):
                continue  # not a valid key: moto's own validation refuses the transaction
            current = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(current)))
    return saved


def _put_back(saved):
    for table, hash_value, range_value, item in reversed(saved):
        place, key = (
            (table.items[hash_value], range_value)
            if range_value is not None
            else (table.items, hash_value)
        )
        if item is None:
            place.pop(key, None)
        else:
            place[key] = item


_transact_write_items = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    saved = _named_items(self, transact_items)
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        _put_back(saved)
        raise


dynamodb_models.copy = _TablesNotCopied()
DynamoDBBackend.transact_write_items = transact_write_items


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
