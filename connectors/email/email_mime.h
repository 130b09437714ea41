/*
 * email_mime.h - walk libetpan's MIME tree into text and attachments.
 *
 * Internal to the email connector (libetpan types appear here, never in
 * email_parse.h). Pure; thread: any.
 */
#ifndef WB_EMAIL_MIME_H
#define WB_EMAIL_MIME_H

#include <libetpan/libetpan.h>

#include "email_parse.h"

struct wb_email_body {
    struct wb_buf text; /* UTF-8 body text, LF line ends */
    bool has_html;
    bool text_from_html;
    bool is_truncated;         /* text reached max_text */
    bool is_report_dsn;        /* multipart/report; report-type=delivery-status */
    bool is_report_mdn;        /* multipart/report; report-type=disposition-notification */
    struct wb_attachment *att; /* heap array, entries point into the arena */
    size_t n_att, cap_att;
    struct wb_email_skipped *skip; /* heap array */
    size_t n_skip, cap_skip;
    size_t n_parts;
};

/*
 * Collect the text and attachments of the MIME body m (may be NULL).
 * Strings and attachment bytes go to a; b->text and the arrays are heap
 * memory freed by wb_email_body_free().
 */
void wb_email_body_walk(struct mailmime *m, const struct wb_email_limits *lim, struct wb_arena *a,
                        struct wb_email_body *b);
void wb_email_body_free(struct wb_email_body *b);

/* Lowercase "type/subtype" of a content type (text/plain when NULL), in a. */
char *wb_email_content_type(const struct mailmime_content *ct, struct wb_arena *a);

#endif
