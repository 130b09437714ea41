/* Placeholder translation unit for a library whose part has no sources yet. */
typedef int wb_empty_translation_unit;
