// The HTML, CSS and script of the attention page (attention_html.h), kept
// apart from the C++ that fills it. The data goes where "@HEED_DATA@" stands.
#pragma once

namespace heed {

extern const char *const kAttentionPageTemplate;

} // namespace heed
