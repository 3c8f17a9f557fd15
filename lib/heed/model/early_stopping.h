// transformers' beam-search stopping rule (GenerationConfig.early_stopping), in
// a header of its own: TranslationOptions, part of heed's public interface,
// takes it without the JSON parsing of generation_config.h.
#pragma once

namespace heed {

enum class EarlyStopping { heuristic, always, never }; // HF: False, True, "never"

// "false", "true" or "never", as transformers spells the value.
const char *early_stopping_name(EarlyStopping e);

} // namespace heed
