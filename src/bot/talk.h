/*
 * talk.h - small talk (greetings, thanks, goodbyes) and follow-up cues.
 *
 * Pure functions over the customer's text. Thread: any.
 */
#ifndef WB_BOT_TALK_H
#define WB_BOT_TALK_H

#include <warbler/common.h>

enum wb_talk {
    WB_TALK_NONE = 0, /* no small talk at the start */
    WB_TALK_GREETING,
    WB_TALK_THANKS,
    WB_TALK_GOODBYE,
    WB_TALK_FILLER, /* only "ok", "好的", emoji or punctuation */
};

/*
 * Classify the start of p[0..n). Leading small-talk phrases (and fillers
 * such as "ok", "好的", punctuation, emoji) are consumed; *rest_out is the
 * offset of what follows (n when nothing does). The kind returned is the
 * strongest phrase seen (goodbye > thanks > greeting > filler), and
 * *lang_out is "zh" or "en" after the phrases' language.
 */
enum wb_talk wb_talk_detect(const char *p, size_t n, size_t *rest_out, const char **lang_out);

/* A short message that leans on the previous turn: 那电商呢？, and for banks?, what about X? */
bool wb_talk_is_followup(const char *p, size_t n);

/* True when p has at least one letter, digit or Han character. */
bool wb_talk_has_content(const char *p, size_t n);

#endif
