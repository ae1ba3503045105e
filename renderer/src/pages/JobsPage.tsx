import { PageHeader } from '../components/ui';

export function JobsPage() {
  return (
    <section aria-labelledby="page-title" className="page">
      <PageHeader title="Jobs" />
    </section>
  );
}
