/*
 * fuzz_table.c: the list of every fuzz target, for the regression replay.
 * Apart from fuzz_targets.c so that the libFuzzer binaries, which link
 * fuzz_targets.c only, do not pull in the other owners' targets.
 */
#include "fuzz_targets.h"

#include <string.h>

static const bool fuzz_present_always = true;

const struct fuzz_target fuzz_targets[] = {
	{ "arxiv_api",		fuzz_one_arxiv_api,	&fuzz_present_always },
	{ "arxiv_rss",		fuzz_one_arxiv_rss,	&fuzz_present_always },
	{ "hf_daily",		fuzz_one_hf_daily,	&fuzz_present_always },
	{ "feed",		fuzz_one_feed,		&fuzz_present_always },
	{ "sniff",		fuzz_one_sniff,		&fuzz_present_always },
	{ "config",		fuzz_one_config,	&fuzz_present_always },
	{ "query",		fuzz_one_query,		&fuzz_present_query },
	{ "render",		fuzz_one_render,	&fuzz_present_render },
	{ "mail_header",	fuzz_one_mail_header,	&fuzz_present_mail_header },
	{ "digest",		fuzz_one_digest,	&fuzz_present_digest },
	{ NULL,			NULL,			NULL },
};

const struct fuzz_target *
fuzz_target_find(const char *name)
{
	for (size_t i = 0; fuzz_targets[i].name != NULL; i++)
		if (strcmp(fuzz_targets[i].name, name) == 0)
			return &fuzz_targets[i];
	return NULL;
}
