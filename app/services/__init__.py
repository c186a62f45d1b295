"""Use-cases: each opens its transaction, calls domain rules, reads and writes, enqueues."""
