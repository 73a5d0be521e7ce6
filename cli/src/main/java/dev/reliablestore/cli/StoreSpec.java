package dev.reliablestore.cli;

import java.util.Map;

/**
 * Everything needed to open one store.
 *
 * @param location        where it lives
 * @param resourceGroup   the cluster-registry resource group (null: {@link #DEFAULT_RESOURCE_GROUP})
 * @param keyPath         the cluster-registry key path (null: {@link #DEFAULT_KEY_PATH})
 * @param keys            key material of an encrypted store
 * @param compression     whether new values are compressed (cluster stores)
 * @param registryOptions options for the registry backend (cluster stores)
 */
record StoreSpec(StoreLocation location, String resourceGroup, String keyPath, KeySpec keys, boolean compression,
                 Map<String, String> registryOptions) {

    static final String DEFAULT_RESOURCE_GROUP = "ReliableStore-RG";
    static final String DEFAULT_KEY_PATH = "Software\\ReliableStore\\Data";

    StoreSpec {
        registryOptions = registryOptions == null ? Map.of() : Map.copyOf(registryOptions);
        keys = keys == null ? KeySpec.NONE : keys;
    }

    String resourceGroupOrDefault() {
        return resourceGroup == null ? DEFAULT_RESOURCE_GROUP : resourceGroup;
    }

    String keyPathOrDefault() {
        return keyPath == null ? DEFAULT_KEY_PATH : keyPath;
    }

    /** Whether the storage root was chosen explicitly. */
    boolean explicitRoot() {
        return resourceGroup != null || keyPath != null;
    }

    StoreSpec withRoot(String group, String path) {
        return new StoreSpec(location, group, path, keys, compression, registryOptions);
    }
}
