#!/usr/bin/env python3
"""What a release binary is made of: its sections (`size -A`) and its code and data symbols
grouped by crate (`nm -S --size-sort -C`), for docs/BENCHMARKS.md.

The binary must keep its symbol table (the release profile strips it), so build it with
`CARGO_PROFILE_RELEASE_STRIP=false cargo build --release -p cwsync-customer-sync`, then run
`python3 tests/benches/size_breakdown.py target/release/customer-sync`.

A symbol is counted for the crate its demangled path starts with (`<A as B>::f` for A's crate);
generic code instantiated from another crate counts for the crate that defines the function
(`core::ptr::drop_in_place<aws_sdk_dynamodb::...>` is `core`), as cargo-bloat does. C symbols
(no `::`) are grouped by their prefix: `aws_lc_*` is the aws-lc-sys crate's C library.
"""

import collections
import re
import subprocess
import sys

MB = 1_000_000


def sections(binary):
    out = subprocess.run(["size", "-A", binary], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            rows.append((parts[0], int(parts[1])))
    return rows


def crate_of(name):
    name = name.lstrip("<&*( ")
    name = re.sub(r"^(dyn |impl |mut |const )+", "", name)
    impl = re.match(r"^([^ <>]+) as ([^ <>]+?)::", name)
    if impl and "::" not in impl.group(1):
        # `<T as core::fmt::Debug>::fmt`, `<[u8] as ...>`: a type without a path; the trait's crate.
        name = impl.group(2) + "::"
    if "::" not in name:
        if name.startswith("aws_lc_") or name.startswith("AWS_LC"):
            return "aws-lc-sys (C)"
        return "[other C: aws-lc internals, crt]"
    head = name.split("::", 1)[0]
    head = re.sub(r"\[.*$", "", head)  # v0 disambiguators
    return head or "[unnamed]"


def symbols(binary):
    out = subprocess.run(
        ["nm", "-S", "--size-sort", "-C", binary], check=True, capture_output=True, text=True
    ).stdout
    by_crate = collections.Counter()
    by_kind = collections.Counter()
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 4:
            continue
        size, kind, name = int(parts[1], 16), parts[2], parts[3]
        kind = "code" if kind in "tTwW" else "data"
        by_crate[crate_of(name)] += size
        by_kind[kind] += size
    return by_crate, by_kind


def main():
    binary = sys.argv[1]
    secs = sections(binary)
    total_file = sum(size for _, size in secs)
    print(f"{binary}: sections (size -A), {total_file / MB:.2f} MB in sections")
    for name, size in sorted(secs, key=lambda s: -s[1])[:12]:
        print(f"  {name:<22} {size / MB:7.2f} MB")
    by_crate, by_kind = symbols(binary)
    total = sum(by_crate.values())
    print(f"symbols (nm -S): {total / MB:.2f} MB, code {by_kind['code'] / MB:.2f} MB, data {by_kind['data'] / MB:.2f} MB")
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    for crate, size in by_crate.most_common(top):
        print(f"  {crate:<28} {size / MB:7.2f} MB  {100 * size / total:5.1f}%")


if __name__ == "__main__":
    main()
