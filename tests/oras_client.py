#!/usr/bin/env python3
"""The oras Python SDK as an independent OCI client for netkit's registry tests.

  push REGISTRY/REPO:TAG FILE:MEDIATYPE... [--config FILE:MEDIATYPE]   prints the manifest digest
  pull REGISTRY/REPO:TAG OUTDIR                                        prints the files pulled
  manifest REGISTRY/REPO:TAG                                           prints the manifest JSON
  put-manifest REGISTRY/REPO:TAG FILE                                  uploads FILE as the manifest, prints its digest

Plain HTTP (the test registry is on loopback without TLS).
"""
import hashlib
import json
import os
import sys

import oras.client
import requests

ACCEPT = "application/vnd.oci.image.manifest.v1+json"


def client(target):
    return oras.client.OrasClient(hostname=target.split("/")[0], insecure=True)


def split(target):
    host, rest = target.split("/", 1)
    repo, tag = rest.rsplit(":", 1) if ":" in rest.split("/")[-1] else (rest, "latest")
    return host, repo, tag


def main(argv):
    cmd = argv[0]
    if cmd == "push":
        target, rest = argv[1], argv[2:]
        config = None
        if "--config" in rest:
            i = rest.index("--config")
            config = rest[i + 1]
            rest = rest[:i] + rest[i + 2:]
        c = client(target)
        r = c.push(target=target, files=rest, manifest_config=config, disable_path_validation=True, quiet=True)
        r.raise_for_status()
        host, repo, tag = split(target)
        m = requests.get(f"http://{host}/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
        m.raise_for_status()
        print("sha256:" + hashlib.sha256(m.content).hexdigest())
    elif cmd == "pull":
        target, out = argv[1], argv[2]
        os.makedirs(out, exist_ok=True)
        files = client(target).pull(target=target, outdir=out)
        for f in files:
            print(f)
    elif cmd == "manifest":
        host, repo, tag = split(argv[1])
        m = requests.get(f"http://{host}/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
        m.raise_for_status()
        print(m.text)
    elif cmd == "put-manifest":
        host, repo, tag = split(argv[1])
        body = open(argv[2], "rb").read()
        media = json.loads(body).get("mediaType", ACCEPT)
        r = requests.put(f"http://{host}/v2/{repo}/manifests/{tag}", data=body, headers={"Content-Type": media})
        if r.status_code >= 300:
            sys.exit(f"PUT manifest: {r.status_code} {r.text}")
        print("sha256:" + hashlib.sha256(body).hexdigest())
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
