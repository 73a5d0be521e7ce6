package dev.reliablestore.options;

import java.util.Collections;
import java.util.Map;

/** What a surface's options were set to: each option's parsed value, or its default. */
public final class OptionValues {

    private final Map<Option<?>, Object> values;

    OptionValues(Map<Option<?>, Object> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** The value given, or the option's default (null when the caller computes the default). */
    @SuppressWarnings("unchecked")
    public <T> T get(Option<T> option) {
        return values.containsKey(option) ? (T) values.get(option) : option.defaultValue();
    }

    /** Whether the option (or an old spelling of it) was given. */
    public boolean isSet(Option<?> option) {
        return values.containsKey(option);
    }
}
