import Type from 'typebox';

export const AdminHeaders = Type.Object({
  authorization: Type.Optional(Type.String({ maxLength: 512, description: 'Bearer <API key>' })),
  'x-api-key': Type.Optional(Type.String({ maxLength: 512, description: 'The API key (alternative header)' })),
});

export const CacheFlushed = Type.Object({ flushed: Type.Integer() }, { title: 'CacheFlushed' });

export const AdminConfig = Type.Object(
  { config: Type.Record(Type.String(), Type.Unknown()) },
  { title: 'AdminConfig' },
);
