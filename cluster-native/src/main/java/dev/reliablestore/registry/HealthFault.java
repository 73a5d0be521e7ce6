package dev.reliablestore.registry;

import java.util.Objects;

/**
 * A health fault, after the Windows {@code CLUSTER_HEALTH_FAULT} structure.
 *
 * @param id          unique id of the fault
 * @param errorType   the fault class (caller-defined)
 * @param errorCode   the error code (e.g. a Win32 code)
 * @param description what is wrong, for people
 * @param provider    who raised it
 * @param flags       provider-defined flags
 */
public record HealthFault(String id, int errorType, int errorCode, String description, String provider, int flags) {

    public HealthFault {
        RegistryPath.checkName(id, "health fault id");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(provider, "provider");
    }
}
