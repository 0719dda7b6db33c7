/*
 * doc_impl.h: what the two document readers share (doc.c reads YAML with
 * libyaml, json.c reads JSON with yajl): both build the tree of engine.h
 * with the same containers, the same duplicate-key rule and the same
 * integer limit, so one document read by either gives one tree.
 */
#ifndef ARBITER_DOC_IMPL_H
#define ARBITER_DOC_IMPL_H

#include "engine.h"

#define DOC_BEYOND_MAX_INT "integer %s is beyond +-9007199254740991 (2^53 - 1), the integers " \
	"JSON holds exactly (I-JSON): quote it to keep it as text"

/* What a map being read knows of its keys so far: one bit per key's hash
 * (a key whose bit is not set yet is new, without a scan), and a map past a
 * few keys its table, filled on first use and freed by the caller
 * (strmap_free of big). Zeroed, it knows of none. */
typedef struct map_keys {
	uint64_t seen;
	strmap big;
} map_keys;
/* Whether the map whose items so far are items[0, count) (keys and values
 * interleaved, keys at the even places) already has key k; k is then
 * counted in keys. */
bool doc_map_has_key(node *const *items, size_t count, map_keys *keys, const node *k);
/* Gives the list or map n its count items (a map's keys and values
 * interleaved), copied into the arena. */
void doc_container_fill(arena *a, node *n, node *const *items, size_t count);

#endif
