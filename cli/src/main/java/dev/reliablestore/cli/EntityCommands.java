package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.api.Versioned;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code put}, {@code get}, {@code delete}, {@code list} and {@code count}: entities as JSON on any store. */
final class EntityCommands {

    private EntityCommands() {
    }

    static String checkType(String type) {
        try {
            return EntityIds.requireValidTypeName(type);
        } catch (InvalidIdException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    static String checkId(String id) {
        try {
            return EntityIds.requireValidId(id);
        } catch (InvalidIdException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    /** A version to expect is 0 ("create only", for put) or more: a negative one is bad usage, checked before anything opens. */
    static void checkExpectedVersion(Long expected) {
        if (expected != null && expected < 0) {
            throw CliException.usage("--expect-version must be 0 or more, got " + expected);
        }
    }

    static Map<String, Object> entityJson(String type, Versioned<JsonNode> v) {
        return Json.object("type", type, "id", v.id(), "version", v.version(), "value", v.value());
    }

    @Command(name = "put", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Save one entity, given as JSON (an argument, a file or standard input).",
                    "Example: reliablestore put --store embedded:./data --type Customer --id CUST-001 '{\"name\":\"Acme\"}'"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:saved", "1:failed", "2:bad usage, invalid id, malformed JSON, JSON that is not an object, or an entity over the size limit (nothing written)",
                    "5:--expect-version did not match (nothing written)"})
    static final class Put implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--type", required = true, paramLabel = "TYPE", description = "Entity type name, e.g. Customer.")
        String type;

        @Option(names = "--id", required = true, paramLabel = "ID", description = "Entity id.")
        String id;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        static final class Source {
            @Parameters(paramLabel = "JSON", description = "The entity as JSON text.")
            String text;

            @Option(names = "--file", paramLabel = "FILE", description = "Read the entity's JSON from FILE ('-' = standard input).")
            String file;
        }

        @Option(names = "--expect-version", paramLabel = "N",
                description = "Save only if the stored version is N (0 = only if the id holds no entity yet).")
        Long expectVersion;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            checkType(type);
            checkId(id);
            checkExpectedVersion(expectVersion);
            String text = source.text != null ? source.text : read(source.file);
            JsonNode entity = Json.parseEntity(text, type + "/" + id);
            try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.CREATE)) {
                // a type new to an encrypted store, put without its keys, would be written in clear and refused by its applications
                session.requireWritable(List.of(type));
                EntityStore<JsonNode> s = session.store(type);
                long version;
                try {
                    version = expectVersion == null ? s.save(id, entity) : s.save(id, entity, expectVersion);
                } catch (ConcurrencyConflictException e) {
                    throw conflict(e);
                }
                PrintWriter out = spec.commandLine().getOut();
                out.println(json ? Json.write(Json.object("type", type, "id", id, "version", version))
                        : "saved " + type + "/" + id + " version " + version);
                out.flush();
            }
            return ExitCodes.OK;
        }

        private static String read(String file) throws IOException {
            if (file.equals("-")) {
                InputStream in = System.in;
                try {
                    // strict, as Files.readString is for --file PATH: a lenient decode would store U+FFFD for the bad bytes
                    return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(in.readAllBytes())).toString();
                } catch (java.nio.charset.CharacterCodingException e) {
                    throw CliException.usage("cannot read --file - (standard input is not UTF-8: " + e.getClass().getSimpleName() + ")");
                }
            }
            try {
                return Files.readString(Path.of(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw CliException.usage("cannot read --file " + file + " (" + e.getClass().getSimpleName() + ")");
            }
        }
    }

    static CliException conflict(ConcurrencyConflictException e) {
        return CliException.conflict(e.getMessage());
    }

    @Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print one entity and its version.",
                    "Example: reliablestore get --store embedded:./data --type Customer --id CUST-001"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:found", "1:failed (e.g. the value cannot be decrypted)",
                    "2:bad usage", "4:no such entity"})
    static final class Get implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--type", required = true, paramLabel = "TYPE", description = "Entity type name.")
        String type;

        @Option(names = "--id", required = true, paramLabel = "ID", description = "Entity id.")
        String id;

        @Option(names = "--json", description = "Print {type, id, version, value} as JSON.")
        boolean json;

        @Override
        public Integer call() {
            checkType(type);
            checkId(id);
            try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING).checkingOnly()) {
                if (session.typeExists(type)) {
                    session.requireReadable(List.of(type));
                }
                Optional<Versioned<JsonNode>> found = session.typeExists(type) ? session.store(type).get(id) : Optional.empty();
                Versioned<JsonNode> v = found.orElseThrow(() -> CliException.notFound(type + "/" + id + " not found in "
                        + session.describe()));
                PrintWriter out = spec.commandLine().getOut();
                out.println(json ? Json.write(entityJson(type, v))
                        : type + "/" + id + " version " + v.version() + System.lineSeparator() + Json.pretty(v.value()));
                out.flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Delete one entity.",
                    "Example: reliablestore delete --store embedded:./data --type Customer --id CUST-001"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:deleted", "1:failed", "2:bad usage", "4:no such entity",
                    "5:--expect-version did not match (nothing deleted)"})
    static final class Delete implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--type", required = true, paramLabel = "TYPE", description = "Entity type name.")
        String type;

        @Option(names = "--id", required = true, paramLabel = "ID", description = "Entity id.")
        String id;

        @Option(names = "--expect-version", paramLabel = "N", description = "Delete only if the stored version is N.")
        Long expectVersion;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() {
            checkType(type);
            checkId(id);
            checkExpectedVersion(expectVersion);
            try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING)) {
                if (!session.typeExists(type)) {
                    throw CliException.notFound(type + "/" + id + " not found in " + session.describe());
                }
                EntityStore<JsonNode> s = session.store(type);
                if (expectVersion == null) {
                    if (!s.delete(id)) {
                        throw CliException.notFound(type + "/" + id + " not found in " + session.describe());
                    }
                } else {
                    try {
                        s.delete(id, expectVersion);
                    } catch (ConcurrencyConflictException e) {
                        if (e.actualVersion() == Versioned.ABSENT && !e.outcomeUnknown()) {
                            throw CliException.notFound(type + "/" + id + " not found in " + session.describe()
                                    + " (--expect-version " + expectVersion + ")");
                        }
                        throw conflict(e);
                    }
                }
                PrintWriter out = spec.commandLine().getOut();
                out.println(json ? Json.write(Json.object("type", type, "id", id, "deleted", true)) : "deleted " + type + "/" + id);
                out.flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"List the entities of a type (id, version, JSON), ordered by id; without --type, the types.",
                    "Example: reliablestore list --store embedded:./data --type Customer --limit 10"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:listed", "1:failed", "2:bad usage"})
    static final class ListEntities implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--type", paramLabel = "TYPE", description = "Entity type name; without it the types are listed.")
        String type;

        @Option(names = "--ids-only", description = "Print ids only.")
        boolean idsOnly;

        @Option(names = "--limit", paramLabel = "N", description = "Print at most N entities.")
        Integer limit;

        @Option(names = "--json", description = "Print a JSON array.")
        boolean json;

        @Override
        public Integer call() {
            if (limit != null && limit < 0) {
                throw CliException.usage("--limit must be 0 or more, got " + limit);
            }
            PrintWriter out = spec.commandLine().getOut();
            try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING).checkingOnly()) {
                if (type == null) {
                    List<String> types = session.typeNames();
                    out.println(json ? Json.write(types) : String.join(System.lineSeparator(), types));
                    out.flush();
                    return ExitCodes.OK;
                }
                checkType(type);
                if (session.typeExists(type)) {
                    session.requireReadable(List.of(type));
                }
                List<Versioned<JsonNode>> all = session.typeExists(type) ? session.store(type).getAll() : List.of();
                List<Versioned<JsonNode>> shown = limit == null ? all : all.subList(0, Math.min(limit, all.size()));
                if (json) {
                    List<Object> items = new ArrayList<>();
                    for (Versioned<JsonNode> v : shown) {
                        items.add(idsOnly ? v.id() : Json.object("id", v.id(), "version", v.version(), "value", v.value()));
                    }
                    out.println(Json.write(items));
                } else {
                    for (Versioned<JsonNode> v : shown) {
                        out.println(idsOnly ? v.id() : v.id() + "\t" + v.version() + "\t" + Json.write(v.value()));
                    }
                }
                out.flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "count", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Count the entities of one type or of every type.",
                    "Example: reliablestore count --store embedded:./data"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:counted", "1:failed", "2:bad usage"})
    static final class Count implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--type", paramLabel = "TYPE", description = "Count this type only.")
        String type;

        @Option(names = "--json", description = "Print {type: count} as JSON.")
        boolean json;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING).checkingOnly()) {
                Map<String, Long> counts = session.counts();
                if (type != null) {
                    checkType(type);
                    counts = Map.of(type, counts.getOrDefault(type, 0L));
                }
                if (json) {
                    out.println(Json.write(counts));
                } else {
                    counts.forEach((t, n) -> out.println(t + "\t" + n));
                    if (type == null) {
                        out.println("total\t" + counts.values().stream().mapToLong(Long::longValue).sum());
                    }
                }
                out.flush();
            }
            return ExitCodes.OK;
        }
    }
}
