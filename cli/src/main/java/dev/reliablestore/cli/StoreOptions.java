package dev.reliablestore.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;


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

    /**
     * Refuses the options that choose how new values are sealed (key material, {@code --no-compression})
     * for a command that copies stored values as they are, which would otherwise read and ignore them.
     *
     * @param what what the command does with values, for the message
     */
    static void refuseSealingOptions(CommandSpec command, String what) {
        List<String> names = new ArrayList<>();
        for (Field f : KeyOptions.class.getDeclaredFields()) {
            Option o = f.getAnnotation(Option.class);
            if (o != null) {
                names.addAll(List.of(o.names()));
            }
        }
        names.add("--no-compression");
        ParseResult given = command.commandLine().getParseResult();
        for (String name : names) {
            if (given.hasMatchedOption(name)) {
                throw CliException.usage(what + ", so " + name + " does not apply; leave it out");
            }
        }
    }

    StoreSpec spec() {
        return new StoreSpec(StoreLocation.parse(store), resourceGroup, keyPath,
                keys.spec(),
                !noCompression, registry.resolved());
    }
}
