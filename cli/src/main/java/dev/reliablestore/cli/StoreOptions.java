package dev.reliablestore.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;


/** The options naming one store and its keys; mixed into every command that works on a store. */
final class StoreOptions {

    @Option(names = "--store", paramLabel = "STORE", defaultValue = "${env:RELIABLESTORE_STORE}",
            description = "The store: embedded:<dir>, zookeeper://host:port[,host:port…]/<chroot>, clusapi://<cluster> "
                    + "(cluster-registry provider) or file:<dir> (file provider). Default: $RELIABLESTORE_STORE.")
    String store;

    @Option(names = "--resource-group", paramLabel = "NAME",
            description = "Cluster-registry resource group (first segment of the storage root). Default: "
                    + StoreSpec.DEFAULT_RESOURCE_GROUP + ".")
    String resourceGroup;

    @Option(names = "--key-path", paramLabel = "PATH",
            description = "Cluster-registry key path below the resource group. Default: Software\\\\ReliableStore\\\\Data.")
    String keyPath;

    @Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = "--no-compression", negatable = false,
            description = "Cluster stores: write new values without zstd compression (reading is unaffected).")
    boolean noCompression;

    @Mixin
    RegistryOptions registry = new RegistryOptions();

    StoreSpec spec() {
        return new StoreSpec(StoreLocation.parse(store), resourceGroup, keyPath,
                keys.spec(),
                !noCompression, registry.resolved());
    }
}
