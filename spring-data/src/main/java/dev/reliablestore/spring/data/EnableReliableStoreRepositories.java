package dev.reliablestore.spring.data;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.context.annotation.ComponentScan.Filter;
import org.springframework.context.annotation.Import;
import org.springframework.data.keyvalue.core.KeyValueOperations;
import org.springframework.data.keyvalue.repository.config.QueryCreatorType;
import org.springframework.data.keyvalue.repository.query.PredicateQueryCreator;
import org.springframework.data.keyvalue.repository.support.KeyValueRepositoryFactoryBean;
import org.springframework.data.repository.config.DefaultRepositoryBaseClass;
import org.springframework.data.repository.query.QueryLookupStrategy.Key;

/**
 * Creates Spring Data repositories ({@code interface Customers extends CrudRepository<Customer, String>})
 * whose entities live in the context's {@link dev.reliablestore.api.StoreFactory}: by default through
 * a {@code reliableStoreKeyValueTemplate} bean made by {@link ReliableStoreKeyValue#template} unless
 * the context defines one. The attributes are those of Spring Data's other {@code @Enable…Repositories}.
 * Derived {@code deleteBy…}/{@code removeBy…} methods delete what they find, {@code countBy…} ones count.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Import(ReliableStoreRepositoriesRegistrar.class)
@QueryCreatorType(value = PredicateQueryCreator.class, repositoryQueryType = StorePartTreeQuery.class)
public @interface EnableReliableStoreRepositories {

    /** Alias of {@link #basePackages()}. */
    String[] value() default {};

    /** Packages scanned for repository interfaces; default: the annotated class's package. */
    String[] basePackages() default {};

    /** Type-safe {@link #basePackages()}: the packages of these classes. */
    Class<?>[] basePackageClasses() default {};

    Filter[] includeFilters() default {};

    Filter[] excludeFilters() default {};

    String repositoryImplementationPostfix() default "Impl";

    String namedQueriesLocation() default "";

    Key queryLookupStrategy() default Key.CREATE_IF_NOT_FOUND;

    Class<?> repositoryFactoryBeanClass() default KeyValueRepositoryFactoryBean.class;

    Class<?> repositoryBaseClass() default DefaultRepositoryBaseClass.class;

    /** The {@link KeyValueOperations} bean the repositories use. */
    String keyValueTemplateRef() default ReliableStoreKeyValue.TEMPLATE_BEAN;

    boolean considerNestedRepositories() default false;
}
