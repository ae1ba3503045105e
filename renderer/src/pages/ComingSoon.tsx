import { Empty, PageHeader } from '../components/ui';

export function ComingSoon({ title, what }: { title: string; what: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={title} />
      <Empty title="Coming soon">
        <p>{what}</p>
      </Empty>
    </section>
  );
}
