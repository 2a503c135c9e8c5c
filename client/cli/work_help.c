/*
 * work_help.c - the text of `hitlq work --help`: every option, every key
 * of the screen (work_keys.c, work_tui.c), the line commands of --plain
 * and --json (work_line.c), and what happens to leases, notes and the
 * connection.
 */
#include <stdio.h>

#include "work.h"

static const char *const help_text[] = {
    "usage: hitlq [GLOBAL OPTIONS] work QUEUE[,QUEUE...] [OPTIONS]",
    "",
    "The specialist's workstation: claims the next item of the queues itself,",
    "shows it (fields, score, the model's recommendation and band, the labelled",
    "explanation, the history's notes, SLA deadline and lease in local time),",
    "keeps the lease alive with EXTEND heartbeats while you read, and sends one",
    "decision per key.",
    "",
    "Options:",
    "  --lease-ms N    lease length asked for and extended by (1000..86400000 ms;",
    "                  default: the server's)",
    "  --max-hold SEC  stop extending after holding an item this long; the screen",
    "                  warns before the lease then lapses",
    "  --wait SEC      one CLAIM long poll while no work is there (1..600, default 30)",
    "  --plain         line mode for screen readers and scripts: `key: value`",
    "                  lines per item, commands as lines on stdin",
    "  --json          one JSON object per line per item or event (lease tokens",
    "                  as strings), commands as lines on stdin",
    "  --help          this text",
    "",
    "Keys on the item screen:",
    "  1-9, then a b d f g ...  resolve with the type's declared actions (the",
    "                  letters c e n q r s are commands, so they are skipped)",
    "  +               pick any action from the full list (for long lists)",
    "  e               escalate: pick the target queue by key (the policy's",
    "                  escalate_to), then type the note for the next person",
    "  c               root cause: pick a tag of the type's root_causes; it goes",
    "                  with the decision",
    "  n               note: type a comment (COMMENT, no decision); Enter",
    "                  finishes, Esc cancels (the text is kept), Ctrl-U clears",
    "  r               release the item back to its queue",
    "  s               skip: release it and take another (not offered again this",
    "                  session unless nothing else is left)",
    "  q               quit: every lease held is released first",
    "Confirm step: Enter or y confirms, Esc or n cancels.  Pick lists: 1-9, a-z,",
    "A-Z choose, Esc cancels.  While waiting for work: q quits.",
    "",
    "Line commands (--plain, --json; the line's Enter confirms): an action's",
    "key or name [NOTE], e|escalate QUEUE|KEY [NOTE], c|root-cause TAG|KEY,",
    "n|note TEXT, r|release, s|skip, q|quit, show.  End of input quits.",
    "",
    "A typed note is kept in memory and in $XDG_STATE_HOME/hitlq/notes (or",
    "~/.local/state/hitlq/notes) until the server acknowledged it.  A lost",
    "lease is named (lease_expired, lease_held, already_resolved).  A dropped",
    "connection does not end the session: \"reconnecting...\" with backoff, then",
    "the item on screen is re-taken with its lease (or the next one claimed);",
    "a decision whose answer was lost waits for your confirmation again.",
    "A four-eyes review that hides the model shows \"blind review: model hidden\".",
    NULL,
};

void
work_help_print(FILE *f)
{
    for (size_t i = 0; help_text[i] != NULL; i++)
        fprintf(f, "%s\n", help_text[i]);
}
