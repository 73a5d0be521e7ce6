package dev.reliablestore.spring.data.auto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.beans.factory.NoUniqueBeanDefinitionException;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.data.keyvalue.core.KeyValueTemplate;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spring.data.EnableReliableStoreRepositories;
import dev.reliablestore.spring.data.ReliableStoreKeyValue;
import dev.reliablestore.spring.data.ReliableStoreRepositoriesAutoConfiguration;
import dev.reliablestore.spring.data.sample.Customers;

/** Repositories found under Boot's auto-configuration packages, in real contexts over the embedded registry in a temp directory. */
class AutoConfiguredRepositoriesTest {

    @TempDir
    Path dir;

    /** What @SpringBootApplication marks: this package is the application's. */
    @Configuration(proxyBeanMethods = false)
    @AutoConfigurationPackage
    static class Application {
    }

    /** The application asks for the repositories of another package itself. */
    @Configuration(proxyBeanMethods = false)
    @AutoConfigurationPackage
    @EnableReliableStoreRepositories(basePackageClasses = Customers.class)
    static class OwnRepositories {
    }

    /** The application picks the factory of its repositories by defining their template. */
    @Configuration(proxyBeanMethods = false)
    static class ArchiveTemplate {
        @Bean(ReliableStoreKeyValue.TEMPLATE_BEAN)
        KeyValueTemplate reliableStoreKeyValueTemplate(@Qualifier("archive") StoreFactory archive) {
            return ReliableStoreKeyValue.template(archive);
        }
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreRepositoriesAutoConfiguration.class));
    }

    private StoreFactory factory() {
        return factory("data");
    }

    private StoreFactory factory(String folder) {
        return Persistence.openFactory("cluster-registry", Map.of("clusterName", "embedded:" + dir.resolve(folder),
                "resourceGroupName", "App-RG", "registryKeyPath", "Software/App"));
    }

    /** Two factories: the repositories use the primary one, or the template the application defines (as docs/spring.md says). */
    @Test
    void withSeveralFactoriesTheRepositoriesUseThePrimaryOneOrTheApplicationsTemplate() {
        runner().withUserConfiguration(Application.class)
                .withBean("main", StoreFactory.class, () -> factory("main"), bd -> bd.setPrimary(true))
                .withBean("archive", StoreFactory.class, () -> factory("archive"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(Notes.class).save(new Note("n1", "hello"));
                    assertThat(context.getBean("main", StoreFactory.class).store(Note.class).exists("n1")).isTrue();
                    assertThat(context.getBean("archive", StoreFactory.class).store(Note.class).exists("n1")).isFalse();
                });
        runner().withUserConfiguration(Application.class, ArchiveTemplate.class)
                .withBean("main", StoreFactory.class, () -> factory("main2"))
                .withBean("archive", StoreFactory.class, () -> factory("archive2"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(Notes.class).save(new Note("n1", "hello"));
                    assertThat(context.getBean("archive", StoreFactory.class).store(Note.class).exists("n1")).isTrue();
                    assertThat(context.getBean("main", StoreFactory.class).store(Note.class).exists("n1")).isFalse();
                });
        runner().withUserConfiguration(Application.class)
                .withBean("main", StoreFactory.class, () -> factory("main3"))
                .withBean("archive", StoreFactory.class, () -> factory("archive3"))
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasRootCauseInstanceOf(NoUniqueBeanDefinitionException.class));
    }

    @Test
    void repositoriesOfTheApplicationsPackageWorkWithoutTheAnnotation() {
        runner().withUserConfiguration(Application.class).withBean(StoreFactory.class, this::factory).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(Notes.class).doesNotHaveBean(Customers.class);
            Notes notes = context.getBean(Notes.class);
            Note first = notes.save(new Note("n1", "hello"));
            assertThat(first.getVersion()).isEqualTo(1L);
            Note stale = notes.findById("n1").orElseThrow();
            first.setText("hello again");
            notes.save(first);
            stale.setText("lost update");
            assertThatThrownBy(() -> notes.save(stale)).isInstanceOf(OptimisticLockingFailureException.class);
            assertThat(context.getBean(StoreFactory.class).store(Note.class).get("n1")).hasValueSatisfying(v ->
                    assertThat(v.value().getText()).isEqualTo("hello again"));
            // the annotation's derived queries too, though only Boot read it
            assertThat(notes.deleteByText("hello again")).isEqualTo(1);
            assertThat(notes.existsById("n1")).isFalse();
        });
    }

    @Test
    void backsOffWhenTheApplicationDeclaresTheAnnotation() {
        runner().withUserConfiguration(OwnRepositories.class).withBean(StoreFactory.class, this::factory).run(context ->
                assertThat(context).hasNotFailed().hasSingleBean(Customers.class).doesNotHaveBean(Notes.class));
    }

    @Test
    void nothingWithoutAStoreFactoryOrWhenSwitchedOff() {
        runner().withUserConfiguration(Application.class).run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(Notes.class));
        runner().withUserConfiguration(Application.class).withBean(StoreFactory.class, this::factory)
                .withPropertyValues("reliablestore.repositories.enabled=false").run(context ->
                        assertThat(context).hasNotFailed().doesNotHaveBean(Notes.class));
    }
}
