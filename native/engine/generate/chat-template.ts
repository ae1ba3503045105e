import { Template } from '@huggingface/jinja';
import { TandemError } from '../common/errors.js';
import { configToken } from './vocab.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

/** The special-token variables a chat template sees (what transformers.js passes too). */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

/**
 * A model's chat template (`chat_template` in tokenizer_config.json), rendered with
 * @huggingface/jinja exactly as transformers.js' `apply_chat_template(..., { tokenize: false })`.
 */
export class ChatTemplate {
  private readonly template: Template;
  private readonly specials: Record<string, string>;

  private constructor(source: string, config: Record<string, unknown>) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new TandemError('MODEL_INVALID', `the chat template in tokenizer_config.json does not parse: ${(e as Error).message}`, { cause: e });
    }
    this.specials = {};
    for (const k of SPECIAL_TOKEN_KEYS) {
      const v = configToken(config, k);
      if (v !== undefined) this.specials[k] = v;
    }
  }

  /** The template of a tokenizer_config.json, or undefined when it has none (a base model). */
  static fromConfig(config: Record<string, unknown>): ChatTemplate | undefined {
    let t = config.chat_template;
    if (Array.isArray(t)) {
      // [{ name, template }, ...]: the default one.
      const named = t as Array<{ name?: unknown; template?: unknown }>;
      t = named.find((x) => x.name === 'default')?.template;
    }
    return typeof t === 'string' && t.length > 0 ? new ChatTemplate(t, config) : undefined;
  }

  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    try {
      return this.template.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        tools: null,
        documents: null,
        ...this.specials,
      });
    } catch (e) {
      throw new TandemError('INVALID_INPUT', `the chat template failed on these messages: ${(e as Error).message}`, { cause: e });
    }
  }
}
