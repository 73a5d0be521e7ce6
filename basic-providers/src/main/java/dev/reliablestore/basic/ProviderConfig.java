package dev.reliablestore.basic;

import dev.reliablestore.api.ConfigurationException;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Reads a provider's string configuration, refusing unknown keys and out-of-range values. */
final class ProviderConfig {

    private final String provider;
    private final Map<String, String> values;

    ProviderConfig(String provider, Map<String, String> values, Set<String> knownKeys) {
        this.provider = provider;
        this.values = Map.copyOf(values);
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(knownKeys);
        if (!unknown.isEmpty()) {
            throw new ConfigurationException("unknown configuration key(s) " + unknown + " for the \"" + provider
                    + "\" provider; known keys: " + new TreeSet<>(knownKeys));
        }
    }

    String required(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            throw new ConfigurationException("the \"" + provider + "\" provider needs the configuration key " + key
                    + (v == null ? "" : " (it is blank)"));
        }
        return v.trim();
    }

    boolean booleanValue(String key, boolean defaultValue) {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigurationException(key + " must be true or false, got \"" + v + "\"");
        };
    }

    long longValue(String key, long defaultValue, long min, long max) {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        long parsed;
        try {
            parsed = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationException(key + " must be a whole number from " + min + " to " + max + ", got \"" + v + "\"");
        }
        if (parsed < min || parsed > max) {
            throw new ConfigurationException(key + " must be from " + min + " to " + max + ", got " + parsed);
        }
        return parsed;
    }
}
