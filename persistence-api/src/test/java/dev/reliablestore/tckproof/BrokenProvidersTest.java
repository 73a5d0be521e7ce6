package dev.reliablestore.tckproof;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.EntityStoreTck;
import dev.reliablestore.tck.ValueFidelityTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Runs the TCK against deliberately broken providers and checks it catches each defect in the
 * tests meant to catch it; together the defects make every TCK test fail at least once.
 */
class BrokenProvidersTest {

    /** The TCK test methods each defect must fail (it may fail others too). */
    private static final Map<Breakage, Set<String>> MUST_FAIL = new EnumMap<>(Breakage.class);

    static {
        // Not the concurrent increments: with the check ignored, an update is lost only when two
        // threads read the same version before either writes, and on two cores they may not
        // (CI run 35 saw it); the race is forced by LOSES_UPDATES' window instead.
        must(Breakage.IGNORES_EXPECTED_VERSION, "saveWithAStaleVersionConflictsAndWritesNothing",
                "saveWithAnExpectedVersionOnAMissingIdConflicts", "expectedVersionAbsentCreatesOnlyOnce",
                "deleteWithAStaleVersionConflictsAndDeletesNothing", "deleteWithAnExpectedVersionOnAMissingIdConflicts",
                "asyncTwinsDeliverFailuresThroughTheFutureNeverDirectly");
        must(Breakage.CONFLICT_WITHOUT_ACTUAL_VERSION, "saveWithAStaleVersionConflictsAndWritesNothing",
                "deleteWithAStaleVersionConflictsAndDeletesNothing", "expectedVersionAbsentCreatesOnlyOnce");
        must(Breakage.NON_ATOMIC_BATCH, "saveBatchWithOneInvalidIdWritesNothing",
                "saveBatchWithOneNullEntityWritesNothing", "saveBatchWithOneEntityTooLargeWritesNothing");
        must(Breakage.LOSES_UPDATES, "concurrentIncrementsWithOptimisticRetryLoseNoUpdate",
                "concurrentIncrementsSpreadOverSeveralIdsLoseNoUpdate");
        must(Breakage.VERSION_STEP_TWO, "saveThenGetReturnsTheValueAtVersionOne", "everySaveAddsOneToTheVersion",
                "saveWithTheStoredVersionSucceeds", "saveBatchStoresEveryEntryAndReturnsVersionsInEntryOrder");
        must(Breakage.NO_COPY, "aStoredEntityDoesNotChangeWhenTheCallerMutatesItsObjects");
        must(Breakage.LOSSY_CODEC, "richEntitiesRoundTripUnchanged", "dataAndVersionsSurviveReopening");
        must(Breakage.UNORDERED_GET_ALL, "getAllIsOrderedById", "getAllWithAFilterKeepsOnlyMatchesInIdOrder",
                "idsAtTheLimitsAreStoredAndFoundAgain");
        must(Breakage.SORTED_GET_MANY, "getManyReturnsTheFoundIdsInRequestOrder");
        must(Breakage.DELETE_MISSING_SAYS_TRUE, "deleteReportsWhetherSomethingWasDeleted");
        must(Breakage.CLEAR_SAYS_ZERO, "clearRemovesEverythingOfItsTypeAndSaysHowMany");
        must(Breakage.CLEAR_REMOVES_ALL_TYPES, "clearRemovesEverythingOfItsTypeAndSaysHowMany",
                "theSameIdUnderTwoTypesDoesNotCollide");
        must(Breakage.TYPES_SHARE_IDS, "theSameIdUnderTwoTypesDoesNotCollide");
        must(Breakage.TYPES_CASE_INSENSITIVE, "theSameIdUnderTwoTypesDoesNotCollide");
        must(Breakage.IDS_CASE_INSENSITIVE, "idsAtTheLimitsAreStoredAndFoundAgain");
        must(Breakage.VERSION_SURVIVES_DELETE, "aSaveAfterADeleteStartsAgainAtVersionOne");
        must(Breakage.NO_SIZE_LIMIT, "saveOfAnEntityTooLargeIsRejectedAndWritesNothing",
                "saveBatchWithOneEntityTooLargeWritesNothing");
        must(Breakage.FACTORY_CLOSE_IGNORED, "closingTheFactoryClosesItsStores");
        must(Breakage.ASYNC_THROWS_DIRECTLY, "asyncTwinsDeliverFailuresThroughTheFutureNeverDirectly");
        must(Breakage.ASYNC_READS_ARGUMENTS_LATE, "anAsyncBatchTakesItsMapAndEntitiesWhenCalled",
                "anAsyncSaveTakesItsEntityWhenCalled");
        must(Breakage.NOT_DURABLE, "dataAndVersionsSurviveReopening");
        must(Breakage.NO_METRICS, "performanceMetricsCountReadsWritesAndConflicts");
        must(Breakage.COUNT_IGNORES_FILTER, "countWithAndWithoutAFilter", "asyncTwinsGiveTheSameResults");
        must(Breakage.STORES_DO_NOT_SHARE, "twoStoresOfTheSameTypeSeeTheSameData", "closingOneStoreLeavesTheOthersOpen",
                "everyCallOnAClosedStoreFailsWithStoreClosed");
        must(Breakage.STORE_CLOSE_CLOSES_FACTORY, "closingOneStoreLeavesTheOthersOpen",
                "everyCallOnAClosedStoreFailsWithStoreClosed");
        must(Breakage.TRUNCATES_LONG_IDS, "idsAtTheLimitsAreStoredAndFoundAgain");
        must(Breakage.ACCEPTS_BAD_IDS, "invalidIdsAreRejectedAndChangeNothing", "invalidIdMessagesNameTheValueAndTheLimit",
                "invalidTypeNamesAreRejected", "saveBatchWithOneInvalidIdWritesNothing");
        must(Breakage.NEGATIVE_VERSION_MEANS_ANY, "negativeExpectedVersionIsRejected");
        must(Breakage.EMPTY_BATCH_REJECTED, "emptySaveBatchWritesNothing");
        must(Breakage.CLOSE_TWICE_THROWS, "closeIsIdempotent");
        must(Breakage.EXISTS_ALWAYS_TRUE, "getOfMissingIdIsEmpty", "existsFollowsSaveAndDelete");
        must(Breakage.SORTED_BATCH_RESULT, "saveBatchStoresEveryEntryAndReturnsVersionsInEntryOrder");
    }

    private static void must(Breakage b, String... tests) {
        MUST_FAIL.put(b, new TreeSet<>(Arrays.asList(tests)));
    }

    /** Which TCK tests failed, per defect, as the parameterised test finds them. */
    private static final Map<Breakage, Set<String>> FAILED = new ConcurrentHashMap<>();

    /** The defect the TCK run in progress is pointed at (runs are sequential). */
    static volatile Set<Breakage> active = Set.of();

    /** The TCK over the reference store built with {@link #active}'s defects; run by the launcher only. */
    public static class BrokenTck extends EntityStoreTck {
        private ReferenceStorage storage;

        @Override
        protected StoreFactory openFactory() {
            storage = new ReferenceStorage();
            return new ReferenceStoreFactory(storage, active);
        }

        @Override
        protected Optional<StoreFactory> reopenFactory() {
            return Optional.of(new ReferenceStoreFactory(
                    active.contains(Breakage.NOT_DURABLE) ? new ReferenceStorage() : storage, active));
        }

        @Override
        protected OptionalLong entitySizeLimit() {
            return OptionalLong.of(ReferenceStoreFactory.MAX_ENTITY_BYTES);
        }
    }

    /** Runs the whole TCK with the defects; returns the failed test method names. */
    static Set<String> runTck(Set<Breakage> breakages) {
        active = breakages;
        Set<String> failed = ConcurrentHashMap.newKeySet();
        Set<String> passed = ConcurrentHashMap.newKeySet();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(BrokenTck.class)).build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest() && id.getSource().orElse(null) instanceof MethodSource m) {
                    (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL ? passed : failed).add(m.getMethodName());
                }
            }
        });
        assertThat(passed.size() + failed.size()).as("TCK tests run").isEqualTo(tckTests().size());
        return new TreeSet<>(failed);
    }

    static Set<String> tckTests() {
        return Arrays.stream(EntityStoreTck.class.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(Test.class)).map(Method::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void theCorrectReferenceStorePassesEveryTest() {
        assertThat(runTck(Set.of())).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Breakage.class)
    void theTckCatchesTheDefect(Breakage breakage) {
        Set<String> failed = runTck(Set.of(breakage));
        FAILED.put(breakage, failed);
        assertThat(MUST_FAIL).containsKey(breakage);
        assertThat(failed).as("TCK tests failing for %s", breakage).containsAll(MUST_FAIL.get(breakage));
    }

    /** The value-fidelity kit over the reference store built with {@link #active}'s defects. */
    public static class BrokenFidelity extends ValueFidelityTck {
        private ReferenceStorage storage;

        @Override
        protected StoreFactory openFactory() {
            storage = new ReferenceStorage();
            return new ReferenceStoreFactory(storage, active);
        }

        @Override
        protected Optional<StoreFactory> reopenFactory() {
            return Optional.of(new ReferenceStoreFactory(storage, active));
        }
    }

    private static Set<String> failedTests(Class<?> kit) {
        Set<String> failed = ConcurrentHashMap.newKeySet();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(kit)).build(),
                new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                        if (id.isTest() && result.getStatus() != TestExecutionResult.Status.SUCCESSFUL
                                && id.getSource().orElse(null) instanceof MethodSource m) {
                            failed.add(m.getMethodName());
                        }
                    }
                });
        return new TreeSet<>(failed);
    }

    @Test
    void theValueFidelityKitPassesTheCorrectStoreAndCatchesALossyCodec() {
        active = Set.of();
        assertThat(failedTests(BrokenFidelity.class)).isEmpty();
        active = Set.of(Breakage.LOSSY_CODEC);
        assertThat(failedTests(BrokenFidelity.class)).containsExactlyInAnyOrder("everyValueKindReadsBackEqual",
                "decimalsReadBackWithTheirScaleAndMagnitude", "aTypeWithNothingToWriteIsRefusedWhenItsStoreIsOpened",
                "aCreatorWithoutParameterNamesIsRefusedWhenItsStoreIsOpened", "emptyCollectionsAndNullsReadBackAsTheyWere",
                "anEntityThatIsAZonedDateTimeReadsBackEqual", "aValueThatCouldNotBeReadBackIsRefusedWhenSavedAndNothingIsWritten",
                "aTypeWithAPropertyThatCouldNotBeReadBackIsRefusedWhenItsStoreIsOpened",
                "javaSqlDatesAndTimestampsReadBackEqualInAnyTimeZone", "aTypeHoldingACalendarIsRefusedWhenItsStoreIsOpened",
                "aMapKeyThatWouldNotReadBackEqualIsRefusedWhenItsStoreIsOpened", "mapKeysOfExactTypesReadBackEqual",
                "aPolymorphicTypeIsCheckedThroughItsSubtypesWhenItsStoreIsOpened",
                "aDateThatCouldNotBeReadBackIsRefusedWhenSavedAndNothingIsWritten",
                "aSqlDateOutsideTheReadableYearsIsRefusedWhenSavedAndNothingIsWritten",
                "aSubclassValueThatWouldReadBackWithoutItsOwnPropertiesIsRefusedWhenSavedAndNothingIsWritten");
    }

    /** After all defects ran: every TCK test failed for at least one of them, so none is a no-op. */
    @AfterAll
    static void everyTckTestCatchesSomeDefect() {
        if (FAILED.size() < Breakage.values().length) {
            return; // only part of the class ran (e.g. a single test selected)
        }
        Set<String> neverFailed = tckTests();
        FAILED.values().forEach(neverFailed::removeAll);
        assertThat(neverFailed).as("TCK tests that no defect makes fail").isEmpty();
    }
}
