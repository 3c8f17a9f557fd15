// Translates its arguments with heed as a library, as another project would:
// built against the installed heed (see CMakeLists.txt beside it). Uses the
// model heed ships, or the model directory in $HEED_MODEL as heed does.
#include <cstdlib>
#include <iostream>

#include <heed/heed.h>

int main(int argc, char **argv) try {
  heed::TranslationOptions options;
  options.beam_size = 4;
  const char *model = std::getenv("HEED_MODEL");
  heed::Engine engine(model ? model : SHIPPED_MODEL, options);
  for (const heed::Translation &t : engine.translate({argv + 1, argv + argc}))
    std::cout << t.hypotheses.front().text << '\n';
} catch (const heed::Error &e) {
  std::cerr << "translate: " << e.what() << '\n';
  return 1;
}
